package issuer

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/civitas-net/civitas/issuer/store"
)

// Report is a community's monthly public report: counts of credentials issued, revoked
// and suspended per type and per node, and the audit chain head that anchors the log as
// of the report. It holds no personal data.
type Report struct {
	Month       string        `json:"month"`
	Issuer      string        `json:"issuer"`
	GeneratedAt time.Time     `json:"generatedAt"`
	Rows        []store.Count `json:"rows"`
	Totals      store.Count   `json:"totals"`
	// CheckIns counts the month's check-ins at each node, by decision.
	CheckIns  []store.CheckInCount `json:"checkIns"`
	AuditHead AuditHead            `json:"auditHead"`
}

// AuditHead identifies the last audit entry.
type AuditHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// StoredDID returns the issuer DID a store was first served with, "" when it never was.
func StoredDID(ctx context.Context, st store.Store) (string, error) {
	d, err := st.Setting(ctx, settingDID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return d, err
}

// MonthlyReport builds the report for month ("2026-11") from st. It needs no running
// service, so the CLI can produce it from the database directly.
func MonthlyReport(ctx context.Context, st store.Store, issuerDID, month string, now time.Time) (Report, error) {
	from, err := time.Parse("2006-01", month)
	if err != nil {
		return Report{}, fmt.Errorf("month %q is not YYYY-MM", month)
	}
	to := from.AddDate(0, 1, 0)
	rows, err := st.MonthlyCounts(ctx, from, to)
	if err != nil {
		return Report{}, fmt.Errorf("count credentials: %w", err)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Type != rows[j].Type {
			return rows[i].Type < rows[j].Type
		}
		return rows[i].Node < rows[j].Node
	})
	r := Report{Month: month, Issuer: issuerDID, GeneratedAt: now.UTC(), Rows: rows}
	if r.Rows == nil {
		r.Rows = []store.Count{}
	}
	r.Totals.Type = "all"
	for _, c := range rows {
		r.Totals.Issued += c.Issued
		r.Totals.Revoked += c.Revoked
		r.Totals.Suspended += c.Suspended
	}
	if r.CheckIns, err = st.MonthlyCheckIns(ctx, from, to); err != nil {
		return Report{}, fmt.Errorf("count check-ins: %w", err)
	}
	if r.CheckIns == nil {
		r.CheckIns = []store.CheckInCount{}
	}
	if r.AuditHead.Seq, r.AuditHead.Hash, err = st.AuditHead(ctx); err != nil {
		return Report{}, fmt.Errorf("read audit head: %w", err)
	}
	return r, nil
}
