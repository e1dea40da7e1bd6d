package rdfc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
)

// Default limits, used for zero fields of Options.
const (
	// DefaultMaxQuads bounds the size of the dataset. A credential is a few dozen quads; a
	// presentation of several credentials with proofs a few hundred.
	DefaultMaxQuads = 2000
	// DefaultMaxBlankNodes bounds the number of distinct blank nodes.
	DefaultMaxBlankNodes = 200
	// DefaultMaxWork bounds the units of work of the Hash N-Degree Quads step (one per
	// call and one per permutation tried). Credentials whose blank nodes all differ in
	// their own quads need none; a handful of look-alike blank nodes need tens.
	DefaultMaxWork = 10000
)

// Options bound the work of one canonicalization. Zero fields take the defaults above;
// negative fields are treated as zero.
type Options struct {
	// MaxQuads is the largest number of distinct quads accepted.
	MaxQuads int
	// MaxBlankNodes is the largest number of distinct blank nodes accepted.
	MaxBlankNodes int
	// MaxWork is the largest number of Hash N-Degree Quads calls plus permutations tried.
	MaxWork int
}

func (o Options) withDefaults() Options {
	if o.MaxQuads <= 0 {
		o.MaxQuads = DefaultMaxQuads
	}
	if o.MaxBlankNodes <= 0 {
		o.MaxBlankNodes = DefaultMaxBlankNodes
	}
	if o.MaxWork <= 0 {
		o.MaxWork = DefaultMaxWork
	}
	return o
}

// Term positions inside a cquad.
const (
	posS = 0
	posP = 1
	posO = 2
	posG = 3
)

// cquad is a quad prepared for canonicalization: the serialized form of each non-blank
// term and the index of each blank node (-1 where there is none).
type cquad struct {
	term [4]string
	bn   [4]int32
}

// state is the canonicalization state of RDFC-1.0 §4.2.
type state struct {
	ctx     context.Context
	quads   []cquad
	bnQuads [][]int32 // blank node -> indexes of the quads that mention it
	first   []string  // blank node -> Hash First Degree Quads (hex)
	canon   []int32   // blank node -> canonical number, -1 if not issued yet
	nCanon  int32
	work    int
	maxWork int
}

// Canonicalize canonicalizes quads with RDFC-1.0 and returns the canonical N-Quads
// document. Every quad is validated first (ErrInvalid); the limits in opts are enforced
// (ErrLimit); ctx is checked as the work proceeds.
func Canonicalize(ctx context.Context, quads []Quad, opts Options) ([]byte, error) {
	st, err := prepare(ctx, quads, opts.withDefaults())
	if err != nil {
		return nil, err
	}
	if err := st.label(); err != nil {
		return nil, err
	}
	return st.serialize(), nil
}

// prepare validates and deduplicates the quads and builds the blank node to quads map
// (RDFC-1.0 §4.4.3 step 2).
func prepare(ctx context.Context, quads []Quad, opts Options) (*state, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("rdfc: %w", err)
	}
	st := &state{ctx: ctx, maxWork: opts.MaxWork}
	labels := make(map[string]int32)
	size := min(len(quads), opts.MaxQuads)
	seen := make(map[cquad]struct{}, size)
	st.quads = make([]cquad, 0, size)
	for i := range quads {
		q := &quads[i]
		var cq cquad
		for pos, t := range [4]*Term{&q.Subject, &q.Predicate, &q.Object, &q.Graph} {
			if err := t.check("spog"[pos]); err != nil {
				return nil, err
			}
			cq.bn[pos] = -1
			switch t.Kind {
			case BlankNode:
				id, ok := labels[t.Value]
				if !ok {
					if len(labels) >= opts.MaxBlankNodes {
						return nil, fmt.Errorf("%w: more than %d blank nodes", ErrLimit, opts.MaxBlankNodes)
					}
					id = int32(len(labels))
					labels[t.Value] = id
				}
				cq.bn[pos] = id
			case IRI, Literal:
				cq.term[pos] = string(appendTerm(nil, t))
			}
		}
		if _, dup := seen[cq]; dup {
			continue
		}
		if len(st.quads) >= opts.MaxQuads {
			return nil, fmt.Errorf("%w: more than %d quads", ErrLimit, opts.MaxQuads)
		}
		seen[cq] = struct{}{}
		st.quads = append(st.quads, cq)
	}
	n := len(labels)
	st.bnQuads = make([][]int32, n)
	for qi := range st.quads {
		q := &st.quads[qi]
		for _, pos := range [3]int{posS, posO, posG} {
			b := q.bn[pos]
			if b < 0 {
				continue
			}
			// A quad is listed once per blank node even if the node occurs in it twice
			// (a self-loop, a node in its own named graph). RDFC-1.0 §4.2 defines the
			// map as relating a blank node to "the quads in which [it appears]", and
			// digitalbazaar's rdf-canonize (RDFC10.js) keeps a set; json-gold v0.7.0
			// and some other implementations append the quad once per occurrence,
			// which changes the first-degree hash of such nodes.
			if l := st.bnQuads[b]; len(l) > 0 && l[len(l)-1] == int32(qi) {
				continue
			}
			st.bnQuads[b] = append(st.bnQuads[b], int32(qi))
		}
	}
	st.first = make([]string, n)
	st.canon = make([]int32, n)
	for i := range st.canon {
		st.canon[i] = -1
	}
	return st, nil
}

// spend counts units of work and checks the budget and, now and then, the context.
func (st *state) spend(units int) error {
	st.work += units
	if st.work > st.maxWork {
		return fmt.Errorf("%w: more than %d units of hash n-degree work", ErrLimit, st.maxWork)
	}
	if st.work&63 == 0 || units > 1 {
		if err := st.ctx.Err(); err != nil {
			return fmt.Errorf("rdfc: %w", err)
		}
	}
	return nil
}

// label issues canonical identifiers (RDFC-1.0 §4.4.3 steps 3 to 5).
func (st *state) label() error {
	n := len(st.first)
	if n == 0 {
		return nil
	}
	// Steps 3 and 4: first-degree hashes, grouped.
	var scratch []byte
	for b := range n {
		scratch = st.hashFirstDegree(int32(b), scratch[:0])
	}
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		if st.first[a] < st.first[b] {
			return -1
		}
		if st.first[a] > st.first[b] {
			return 1
		}
		return 0
	})
	// Groups of blank nodes sharing a hash, in hash order.
	type group struct{ start, end int }
	var shared []group
	for i := 0; i < n; {
		j := i + 1
		for j < n && st.first[order[j]] == st.first[order[i]] {
			j++
		}
		if j-i == 1 {
			// Step 4: a unique hash gets its canonical identifier at once.
			st.issueCanon(order[i])
		} else {
			shared = append(shared, group{i, j})
		}
		i = j
	}
	if err := st.ctx.Err(); err != nil {
		return fmt.Errorf("rdfc: %w", err)
	}
	// Step 5: groups of blank nodes sharing a first-degree hash.
	type result struct {
		hash   string
		issuer *issuer
	}
	for _, g := range shared {
		var results []result
		for _, b := range order[g.start:g.end] {
			if st.canon[b] >= 0 {
				continue
			}
			tmp := newIssuer(n)
			tmp.issue(b)
			h, is, err := st.hashNDegree(b, tmp)
			if err != nil {
				return err
			}
			results = append(results, result{h, is})
		}
		slices.SortStableFunc(results, func(a, b result) int {
			if a.hash < b.hash {
				return -1
			}
			if a.hash > b.hash {
				return 1
			}
			return 0
		})
		for _, r := range results {
			for _, b := range r.issuer.order {
				st.issueCanon(b)
			}
		}
	}
	return nil
}

func (st *state) issueCanon(b int32) {
	if st.canon[b] < 0 {
		st.canon[b] = st.nCanon
		st.nCanon++
	}
}

// appendFirstDegreeQuad appends the quad serialized for Hash First Degree Quads: the
// reference blank node as _:a, every other blank node as _:z.
func appendFirstDegreeQuad(buf []byte, q *cquad, ref int32) []byte {
	for pos := range 4 {
		b := q.bn[pos]
		if b < 0 && q.term[pos] == "" { // default graph
			continue
		}
		if pos > 0 {
			buf = append(buf, ' ')
		}
		switch {
		case b < 0:
			buf = append(buf, q.term[pos]...)
		case b == ref:
			buf = append(buf, '_', ':', 'a')
		default:
			buf = append(buf, '_', ':', 'z')
		}
	}
	return append(buf, ' ', '.', '\n')
}

// hashFirstDegree computes Hash First Degree Quads (RDFC-1.0 §4.6) for blank node b and
// stores it in st.first. scratch is reused memory; the grown slice is returned.
func (st *state) hashFirstDegree(b int32, scratch []byte) []byte {
	qs := st.bnQuads[b]
	ends := make([]int, len(qs))
	for i, qi := range qs {
		scratch = appendFirstDegreeQuad(scratch, &st.quads[qi], b)
		ends[i] = len(scratch)
	}
	lines := make([][]byte, len(qs))
	start := 0
	for i, end := range ends {
		lines[i] = scratch[start:end]
		start = end
	}
	slices.SortFunc(lines, bytes.Compare)
	h := sha256.New()
	for _, l := range lines {
		h.Write(l)
	}
	var sum [sha256.Size]byte
	st.first[b] = hex.EncodeToString(h.Sum(sum[:0]))
	return scratch
}

// issuer is an identifier issuer (RDFC-1.0 §4.5) for temporary identifiers _:b0, _:b1, ….
// An issuer is changed only right after it is cloned; issuers handed back by hashNDegree
// are never changed again, so they can be shared.
type issuer struct {
	ids   []int32 // blank node -> issued number, -1 if none
	order []int32 // blank nodes in the order they were issued identifiers
}

func newIssuer(n int) *issuer {
	is := &issuer{ids: make([]int32, n)}
	for i := range is.ids {
		is.ids[i] = -1
	}
	return is
}

func (is *issuer) clone() *issuer {
	return &issuer{ids: slices.Clone(is.ids), order: slices.Clone(is.order)}
}

// issue returns the identifier number of b, issuing the next one if b has none.
func (is *issuer) issue(b int32) int32 {
	if id := is.ids[b]; id >= 0 {
		return id
	}
	id := int32(len(is.order))
	is.ids[b] = id
	is.order = append(is.order, b)
	return id
}

// appendLabel appends "_:" and the identifier to use for a related blank node when one is
// known: the canonical one, else the one issued by is. It reports false when neither exists.
func (st *state) appendLabel(buf []byte, b int32, is *issuer) ([]byte, bool) {
	if c := st.canon[b]; c >= 0 {
		buf = append(buf, "_:c14n"...)
		return strconv.AppendInt(buf, int64(c), 10), true
	}
	if id := is.ids[b]; id >= 0 {
		buf = append(buf, "_:b"...)
		return strconv.AppendInt(buf, int64(id), 10), true
	}
	return buf, false
}

// hashRelated computes Hash Related Blank Node (RDFC-1.0 §4.7).
func (st *state) hashRelated(related int32, q *cquad, is *issuer, pos int, buf []byte) (string, []byte) {
	buf = append(buf[:0], "s?og"[pos])
	if pos != posG {
		buf = append(buf, q.term[posP]...)
	}
	var ok bool
	if buf, ok = st.appendLabel(buf, related, is); !ok {
		buf = append(buf, st.first[related]...)
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:]), buf
}

// related is one entry of the hash to related blank nodes map.
type related struct {
	hash string
	bn   int32
}

// hashNDegree computes Hash N-Degree Quads (RDFC-1.0 §4.8) for blank node id with the
// path identifier issuer is, which it does not change. It returns the hash and the issuer
// chosen (is itself when id has no related blank nodes).
func (st *state) hashNDegree(id int32, is *issuer) (string, *issuer, error) {
	if err := st.spend(1); err != nil {
		return "", nil, err
	}
	// Steps 1 to 3: the hash to related blank nodes map, as a sorted list.
	var rel []related
	var buf []byte
	for _, qi := range st.bnQuads[id] {
		q := &st.quads[qi]
		for _, pos := range [3]int{posS, posO, posG} {
			b := q.bn[pos]
			if b < 0 || b == id {
				continue
			}
			var h string
			h, buf = st.hashRelated(b, q, is, pos, buf)
			rel = append(rel, related{h, b})
		}
	}
	slices.SortStableFunc(rel, func(a, b related) int {
		if a.hash < b.hash {
			return -1
		}
		if a.hash > b.hash {
			return 1
		}
		return 0
	})
	// Steps 4 and 5.
	var data []byte
	for i := 0; i < len(rel); {
		j := i + 1
		for j < len(rel) && rel[j].hash == rel[i].hash {
			j++
		}
		list := make([]int32, 0, j-i)
		for _, r := range rel[i:j] {
			list = append(list, r.bn)
		}
		data = append(data, rel[i].hash...)
		path, chosen, err := st.choosePath(list, is)
		if err != nil {
			return "", nil, err
		}
		data = append(data, path...)
		is = chosen
		i = j
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), is, nil
}

// choosePath runs RDFC-1.0 §4.8.3 step 5.4 over every permutation of list and returns the
// chosen (least) path and its issuer.
func (st *state) choosePath(list []int32, is *issuer) ([]byte, *issuer, error) {
	// Refuse at once what the budget could never finish: k blank nodes make k!
	// permutations.
	perms := 1
	for k := 2; k <= len(list); k++ {
		perms *= k
		if perms > st.maxWork-st.work {
			return nil, nil, fmt.Errorf("%w: %d indistinguishable related blank nodes need %d! permutations (work budget %d)",
				ErrLimit, len(list), len(list), st.maxWork)
		}
	}
	slices.Sort(list)
	var chosenPath []byte
	var chosenIssuer *issuer
	var recursion []int32
	for {
		if err := st.spend(1); err != nil {
			return nil, nil, err
		}
		copyIs := is.clone()
		var path []byte
		recursion = recursion[:0]
		skip := false
		for _, r := range list {
			if c := st.canon[r]; c >= 0 {
				path = append(path, "_:c14n"...)
				path = strconv.AppendInt(path, int64(c), 10)
			} else {
				if copyIs.ids[r] < 0 {
					recursion = append(recursion, r)
				}
				path = append(path, "_:b"...)
				path = strconv.AppendInt(path, int64(copyIs.issue(r)), 10)
			}
			if worse(path, chosenPath) {
				skip = true
				break
			}
		}
		if !skip {
			for _, r := range recursion {
				h, resIs, err := st.hashNDegree(r, copyIs)
				if err != nil {
					return nil, nil, err
				}
				path = append(path, "_:b"...)
				path = strconv.AppendInt(path, int64(copyIs.issue(r)), 10)
				path = append(path, '<')
				path = append(path, h...)
				path = append(path, '>')
				copyIs = resIs
				if worse(path, chosenPath) {
					skip = true
					break
				}
			}
		}
		if !skip && (chosenPath == nil || bytes.Compare(path, chosenPath) < 0) {
			chosenPath, chosenIssuer = path, copyIs
		}
		if !nextPermutation(list) {
			break
		}
	}
	return chosenPath, chosenIssuer, nil
}

// worse reports the skip condition of RDFC-1.0 §4.8.3 steps 5.4.4.3 and 5.4.5.5: chosen
// path is not empty, path is at least as long and path is greater.
func worse(path, chosen []byte) bool {
	return len(chosen) != 0 && len(path) >= len(chosen) && bytes.Compare(path, chosen) > 0
}

// nextPermutation rearranges s into the next permutation in lexicographic order and
// reports false when s was the last one. Equal elements give each distinct arrangement
// once.
func nextPermutation(s []int32) bool {
	i := len(s) - 2
	for i >= 0 && s[i] >= s[i+1] {
		i--
	}
	if i < 0 {
		return false
	}
	j := len(s) - 1
	for s[j] <= s[i] {
		j--
	}
	s[i], s[j] = s[j], s[i]
	slices.Reverse(s[i+1:])
	return true
}

// serialize writes the canonical N-Quads document (RDFC-1.0 §4.4.3 step 6 and §4.3).
func (st *state) serialize() []byte {
	size := 0
	for i := range st.quads {
		q := &st.quads[i]
		for pos := range 4 {
			size += len(q.term[pos]) + 12
		}
	}
	buf := make([]byte, 0, size)
	ends := make([]int, len(st.quads))
	for i := range st.quads {
		q := &st.quads[i]
		for pos := range 4 {
			b := q.bn[pos]
			if b < 0 && q.term[pos] == "" {
				continue
			}
			if pos > 0 {
				buf = append(buf, ' ')
			}
			if b < 0 {
				buf = append(buf, q.term[pos]...)
			} else {
				buf = append(buf, "_:c14n"...)
				buf = strconv.AppendInt(buf, int64(st.canon[b]), 10)
			}
		}
		buf = append(buf, ' ', '.', '\n')
		ends[i] = len(buf)
	}
	lines := make([][]byte, len(st.quads))
	start := 0
	for i, end := range ends {
		lines[i] = buf[start:end]
		start = end
	}
	slices.SortFunc(lines, bytes.Compare)
	out := make([]byte, 0, len(buf))
	for i, l := range lines {
		// Distinct quads cannot serialize alike once every blank node has its own
		// canonical label; the check is kept as a guard.
		if i > 0 && bytes.Equal(l, lines[i-1]) {
			continue
		}
		out = append(out, l...)
	}
	return out
}
