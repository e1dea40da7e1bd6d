// Writes <name>.nq next to each <name>.jsonld: the RDFC-1.0 canonical N-Quads that
// digitalbazaar's jsonld.js computes in safe mode (or <name>.error with its error), with
// the contexts served from ../../../schemas/context/v1.jsonld and did-go's embedded
// credentials/v2 copy (argument 1). See README.md.
const fs = require('fs');
const path = require('path');
const jsonld = require('jsonld');
const contexts = {
  'https://www.w3.org/ns/credentials/v2': JSON.parse(fs.readFileSync(process.argv[2])),
  'https://civitas.network/contexts/v1':
    JSON.parse(fs.readFileSync(path.join(__dirname, '../../../schemas/context/v1.jsonld'))),
};
const documentLoader = async (url) => {
  if (!contexts[url]) throw new Error('context not served: ' + url);
  return {contextUrl: null, documentUrl: url, document: contexts[url]};
};
(async () => {
  for (const f of fs.readdirSync(__dirname).filter((f) => f.endsWith('.jsonld')).sort()) {
    const name = f.slice(0, -'.jsonld'.length);
    const doc = JSON.parse(fs.readFileSync(path.join(__dirname, f)));
    try {
      const nq = await jsonld.canonize(doc, {
        algorithm: 'RDFC-1.0', format: 'application/n-quads', documentLoader, safe: true});
      fs.writeFileSync(path.join(__dirname, name + '.nq'), nq);
    } catch (e) {
      fs.writeFileSync(path.join(__dirname, name + '.error'), e.message + '\n');
    }
  }
})();
