package did

import (
	"errors"
	"testing"
)

func TestDialGuard(t *testing.T) {
	tests := []struct {
		guard   DialGuard
		address string
		ok      bool
	}{
		{DialGuard{}, "127.0.0.1:443", false},
		{DialGuard{}, "[::1]:443", false},
		{DialGuard{}, "10.0.0.1:443", false},
		{DialGuard{}, "[fd00::1]:443", false},
		{DialGuard{}, "169.254.169.254:80", false},
		{DialGuard{}, "93.184.216.34:443", true},
		{DialGuard{}, "example.com:443", false}, // not resolved: refused
		{DialGuard{}, "garbage", false},
		{DialGuard{TestAllowLoopback: true}, "127.0.0.1:443", true},
		{DialGuard{TestAllowLoopback: true}, "[::1]:443", true},
		{DialGuard{TestAllowLoopback: true}, "[::ffff:127.0.0.1]:443", true},
		{DialGuard{TestAllowLoopback: true}, "169.254.169.254:80", false},
		{DialGuard{TestAllowLoopback: true}, "10.0.0.1:443", false},
		{DialGuard{TestAllowLoopback: true}, "93.184.216.34:443", true},
		{DialGuard{TestLoopbackOnly: true}, "127.0.0.1:80", true},
		{DialGuard{TestLoopbackOnly: true}, "93.184.216.34:80", false},
	}
	for _, tt := range tests {
		err := tt.guard.Control("tcp", tt.address, nil)
		if tt.ok != (err == nil) || (err != nil && !errors.Is(err, ErrUnsafeAddress)) {
			t.Errorf("%+v Control(%s) = %v, want ok=%v", tt.guard, tt.address, err, tt.ok)
		}
	}
}
