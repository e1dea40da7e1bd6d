package node

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/civitas-net/civitas/credential/jose"
	"github.com/civitas-net/civitas/schemas"
	"github.com/civitas-net/civitas/statuslist"
	"github.com/civitas-net/civitas/verifier"
)

// TestStatusUnavailable is DESIGN.md §5 for the door's status lists: a credential whose
// status the bundle cannot tell (no such list in the bundle, another issuer's list, a
// list for another purpose, an index out of range or malformed) is refused with
// status_unavailable, never admitted. Each case is also put to the bundle's status
// checker directly, to show it fails for the reason named.
func TestStatusUnavailable(t *testing.T) {
	c := newCommunity(t)
	stranger := newCommunity(t)
	stranger.clock = c.clock
	ada := c.member()
	b := c.bundleFor(hereID)
	b.Trust = append(b.Trust, verifier.TrustedIssuer{DID: stranger.issuer()})
	n := c.door(c.sign(b))

	entry := func(url, purpose, index string) *statuslist.Entry {
		return &statuslist.Entry{ID: url + "#" + index, Type: statuslist.EntryType, StatusPurpose: purpose, StatusListIndex: index, StatusListCredential: url}
	}
	// issue makes a membership of iss for ada whose only status entry is e (none when nil).
	issue := func(iss *community, e *statuslist.Entry) []byte {
		raw, _ := iss.issue(schemas.Membership, ada, func(_, doc map[string]any) {
			if e == nil {
				delete(doc, "credentialStatus")
				return
			}
			doc["credentialStatus"] = []any{e.Map()}
		})
		return raw
	}

	// Controls: the bundle's own list answers, and the stranger is trusted.
	want(t, "the bundle's list", c.checkIn(n, c.present(n, ada, "", issue(c, entry(listURL, statuslist.PurposeRevocation, "0")))), Admitted)
	want(t, "a trusted stranger without status", c.checkIn(n, c.present(n, ada, "", issue(stranger, nil))), Admitted)

	lists, err := n.Bundle().lists(context.Background(), c.clock.now())
	if err != nil {
		t.Fatal(err)
	}
	checker := bundleStatus{lists}
	for _, tc := range []struct {
		name   string
		issuer *community
		entry  *statuslist.Entry
		// why is in the checker's error, or wrapped by it.
		why    string
		wrapOf error
	}{
		{name: "no such status list", issuer: c, entry: entry("https://harbourcommons.example/status/2", statuslist.PurposeRevocation, "0"), why: "holds no such status list"},
		{name: "another issuer's list", issuer: stranger, entry: entry(listURL, statuslist.PurposeRevocation, "0"), why: "another issuer's"},
		{name: "another purpose", issuer: c, entry: entry(listURL, statuslist.PurposeSuspension, "0"), why: "another purpose"},
		{name: "index out of range", issuer: c, entry: entry(listURL, statuslist.PurposeRevocation, strconv.Itoa(c.list.Len())), wrapOf: statuslist.ErrIndexOutOfRange},
		{name: "index not canonical", issuer: c, entry: entry(listURL, statuslist.PurposeRevocation, "07"), wrapOf: statuslist.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, err := checker.CheckStatus(context.Background(), verifier.StatusQuery{Issuer: tc.issuer.issuer(), Entry: *tc.entry})
			switch {
			case set || err == nil:
				t.Fatalf("the bundle's checker answered %v, %v", set, err)
			case tc.wrapOf != nil && !errors.Is(err, tc.wrapOf):
				t.Fatalf("checker: %v, want %v", err, tc.wrapOf)
			case tc.why != "" && !strings.Contains(err.Error(), tc.why):
				t.Fatalf("checker: %v, want %q", err, tc.why)
			}
			d := c.checkIn(n, c.present(n, ada, "", issue(tc.issuer, tc.entry)))
			want(t, tc.name, d, Refused, string(verifier.StatusUnavailable))
		})
	}
}

// statusListOf returns the community's status list credential, signed, with its
// encodedList replaced by the gzip of bits (to make lists too short or too long).
func (c *community) statusListOf(bits []byte) string {
	c.t.Helper()
	doc, err := statuslist.Credential(listURL, c.issuer(), statuslist.PurposeRevocation, c.list, c.clock.now().Add(-time.Minute), time.Time{})
	if err != nil {
		c.t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(bits); err != nil {
		c.t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		c.t.Fatal(err)
	}
	doc["credentialSubject"].(map[string]any)["encodedList"] = "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes())
	raw, err := jose.SignCredential(doc, c.key, c.kid)
	if err != nil {
		c.t.Fatal(err)
	}
	return raw
}
