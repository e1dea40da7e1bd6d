package issuer

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the service's Prometheus metrics.
type metrics struct {
	issued     *prometheus.CounterVec
	statusSet  *prometheus.CounterVec
	batchSize  prometheus.Histogram
	commitTime prometheus.Histogram
	commitErrs prometheus.Counter
	suppressed prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "civitas_credentials_issued_total", Help: "Credentials issued, by type and format.",
		}, []string{"type", "format"}),
		statusSet: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "civitas_status_changes_total", Help: "Status bits changed, by purpose and value.",
		}, []string{"purpose", "value"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "civitas_commit_batch_size", Help: "Issuances per group-commit transaction.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}),
		commitTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "civitas_commit_seconds", Help: "Duration of group-commit transactions.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		commitErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "civitas_commit_errors_total", Help: "Failed group-commit transactions.",
		}),
		suppressed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "civitas_auth_denied_unaudited_total", Help: "Authentication failures beyond the audit rate limit (summarized in the next audit entry).",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.issued, m.statusSet, m.batchSize, m.commitTime, m.commitErrs, m.suppressed)
	}
	return m
}

func (m *metrics) commit(n int, d time.Duration, err error) {
	m.batchSize.Observe(float64(n))
	m.commitTime.Observe(d.Seconds())
	if err != nil {
		m.commitErrs.Inc()
	}
}

func (m *metrics) deniedSuppressed() { m.suppressed.Inc() }
