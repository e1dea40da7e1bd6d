// Package kiosk is the web face of a node's door: a small page for door staff at a
// co-living site and the same as a JSON API for apps, served by `civitas node serve`.
//
// The page shows the door's current challenge (nonce, audience, expiry) as a QR code
// rendered on the server, refreshes it before it expires, takes the member's
// presentation from a field that a barcode scanner types into (or staff paste into),
// and shows ADMITTED, ADMITTED — FLAGGED or REFUSED with the reasons in words. Every
// asset (HTML, CSS, JavaScript) is embedded in the binary and served by it: the page
// loads nothing from anywhere else, so it works with no internet, and its
// Content-Security-Policy forbids remote sources.
//
// The API:
//
//	GET  /                   the page
//	GET  /assets/…           its CSS and JavaScript
//	GET  /api/challenge      a new challenge, JSON {"nonce","audience","expires"}
//	GET  /api/challenge.png  a challenge as a QR code (PNG); ?nonce= names one handed out
//	POST /api/checkin        a presentation (text, or {"presentation": …}) → a decision
//	GET  /healthz            liveness
//
// A check-in answers 200 with the decision, refused included; malformed requests get
// RFC 9457 problem details with a stable code (4xx), and a door that fails gets 503.
// The challenge follows the OpenID4VP-style request of the Civitas design (nonce and
// audience); presentations are vp+jwt (VC-JOSE-COSE), SD-JWT VC with key binding, or
// VC Data Model 2.0 presentations with a Data Integrity proof.
//
// What it does not do: verify anything itself (the node.Door decides and records),
// authenticate staff (it is meant for a kiosk on the site's own network or loopback;
// cross-site browser posts are refused), open doors, or serve TLS (put it behind the
// node's own listener in cmd).
package kiosk
