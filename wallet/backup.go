package wallet

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/civitas-net/civitas/internal/atomicfile"
	"github.com/civitas-net/civitas/internal/keystore"
	"github.com/civitas-net/civitas/keys"
)

// MaxBackupSize is the largest backup file Import reads.
const MaxBackupSize = 512 << 20

// Export writes an encrypted backup of the wallet to w: the identity (DID method and
// private key) and every credential with its metadata, sealed in one keystore envelope
// under passphrase, with the wallet's own Argon2id parameters. The backup is
// self-contained: Import needs only it and the passphrase. A damaged credential file
// fails the export with ErrCorrupt.
func (s *Store) Export(w io.Writer, passphrase []byte) error {
	b, err := s.exportBytes(passphrase)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("wallet: write backup: %w", err)
	}
	return nil
}

// ExportFile writes the backup of Export to a new file at path (mode 0600), atomically;
// it refuses to replace an existing file (ErrExists).
func (s *Store) ExportFile(path string, passphrase []byte) error {
	b, err := s.exportBytes(passphrase)
	if err != nil {
		return err
	}
	if err := atomicfile.Create(path, b, 0o600); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("wallet: backup %s: %w", path, ErrExists)
		}
		return fmt.Errorf("wallet: write backup: %w", err)
	}
	return nil
}

func (s *Store) exportBytes(passphrase []byte) ([]byte, error) {
	if len(passphrase) == 0 {
		return nil, fmt.Errorf("wallet: empty passphrase: %w", ErrPassphrase)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	jwk, err := keys.MarshalPrivateJWK(s.key)
	if err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	defer clear(jwk)
	e := binEncoder{b: make([]byte, 0, s.indexSize+len(s.list)*2<<10+1<<10)}
	defer func() { clear(e.b) }()
	encodeBackupHead(&e, s.method, jwk, len(s.list))
	for _, r := range s.list {
		raw, err := s.load(r)
		if err != nil {
			return nil, err
		}
		e.record(r)
		e.bytes(raw)
	}
	out, err := keystore.SealWithPassphrase(passphrase, e.b, []byte(adBackup), s.params)
	if err != nil {
		return nil, fmt.Errorf("wallet: seal backup: %w", err)
	}
	return out, nil
}

// Import restores the backup at backupPath into a new wallet in dir, protected by the
// backup's passphrase and Argon2id parameters, with a new master key. It refuses a
// folder that holds a wallet (ErrExists). A wrong passphrase is ErrPassphrase, a damaged
// backup ErrPassphrase or ErrCorrupt (the envelope cannot tell a damaged payload from a
// wrong passphrase); in every such case nothing is written. The returned Store holds
// the new wallet's lock.
func Import(backupPath, dir string, passphrase []byte) (*Store, error) {
	if len(passphrase) == 0 {
		return nil, fmt.Errorf("wallet: empty passphrase: %w", ErrPassphrase)
	}
	if err := noWallet(dir); err != nil {
		return nil, err
	}
	env, err := readFileMax(backupPath, MaxBackupSize)
	if err != nil {
		return nil, fmt.Errorf("wallet: read backup: %w", err)
	}
	plain, err := keystore.OpenWithPassphrase(passphrase, env, []byte(adBackup))
	switch {
	case errors.Is(err, keystore.ErrDecrypt):
		return nil, fmt.Errorf("wallet: backup: %w (or a damaged backup)", ErrPassphrase)
	case err != nil:
		return nil, fmt.Errorf("wallet: backup: %w: %w", ErrCorrupt, err)
	}
	defer clear(plain)
	b, err := decodeBackup(plain)
	if err != nil {
		return nil, fmt.Errorf("wallet: backup: %w", ErrCorrupt)
	}
	key, err := keys.ParsePrivateJWK(b.jwk)
	if err != nil {
		return nil, fmt.Errorf("wallet: backup: %w: %w", ErrCorrupt, err)
	}
	return createWallet(dir, passphrase, envelopeParams(env), b.method, key, b.recs, b.raws)
}
