package jsonld

import (
	"math"
	"strconv"
	"strings"
)

// numberLexical returns the lexical form and datatype of the literal for a JSON number,
// per JSON-LD 1.1 §8.2 "Object to RDF Conversion" steps 10 and 11:
//
//   - a number with a fractional part, or with absolute value at least 1e21, or whose
//     datatype is xsd:double, becomes the canonical xsd:double form "d.dddE±n" (the
//     mantissa written with up to 15 fraction digits, trailing zeros removed but one kept,
//     as json-gold and jsonld.js both write it: toExponential(15) then trimming);
//   - any other number becomes the xsd:integer form (decimal digits, no exponent, "-0"
//     written "0").
//
// datatype, when not empty, is the value's @type and replaces the default datatype.
// json-gold differs for integral values from 2^63 to 1e21, which it writes as doubles
// (it converts through int64); this follows the specification (and jsonld.js).
func numberLexical(f float64, datatype string) (lex, dt string) {
	integral := f == math.Trunc(f) && math.Abs(f) < 1e21
	if !integral || datatype == xsdDouble {
		return canonicalDouble(f), or(datatype, xsdDouble)
	}
	if f == 0 {
		return "0", or(datatype, xsdInteger)
	}
	return strconv.FormatFloat(f, 'f', 0, 64), or(datatype, xsdInteger)
}

// canonicalDouble writes f as xsd:double in the form JSON-LD processors use: %1.15E,
// trailing zeros of the mantissa dropped (at least one fraction digit kept), the exponent
// without "+" and leading zeros. 1.1 becomes "1.1E0", 100 "1.0E2", -0.005 "-5.0E-3".
func canonicalDouble(f float64) string {
	s := strconv.FormatFloat(f, 'E', 15, 64) // e.g. "-1.100000000000000E+00"
	e := strings.IndexByte(s, 'E')
	mant, exp := s[:e], s[e+1:]
	mant = strings.TrimRight(mant, "0")
	if strings.HasSuffix(mant, ".") {
		mant += "0"
	}
	neg := exp[0] == '-'
	exp = strings.TrimLeft(exp[1:], "0")
	if exp == "" {
		exp = "0"
	}
	if neg {
		exp = "-" + exp
	}
	return mant + "E" + exp
}
