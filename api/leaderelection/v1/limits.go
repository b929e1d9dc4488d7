package leaderelectionv1

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The limits of a request. A server answers INVALID_ARGUMENT outside them.
const (
	// MinTTL and MaxTTL bound the TTL a node may ask for.
	MinTTL = time.Second
	MaxTTL = time.Hour
	// MaxNameBytes bounds an election's name and a node id.
	MaxNameBytes = 256
)

// CheckName reports whether name is a valid election name or node id: 1 to
// MaxNameBytes bytes of valid UTF-8, every character printable (spaces
// included), and not of the form __*__ (reserved by Datastore for key
// names). what names the field in the error ("election", "node_id").
func CheckName(what, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%s is empty", what)
	case len(name) > MaxNameBytes:
		return fmt.Errorf("%s is %d bytes long, longer than %d", what, len(name), MaxNameBytes)
	case !utf8.ValidString(name):
		return fmt.Errorf("%s %q is not valid UTF-8", what, name)
	case strings.HasPrefix(name, "__") && strings.HasSuffix(name, "__") && len(name) >= 4:
		return fmt.Errorf("%s %q is reserved: names of the form __*__ are not allowed", what, name)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%s %q has a character that is not printable (%U)", what, name, r)
		}
	}
	return nil
}

// CheckTTL reports whether ttl is within MinTTL and MaxTTL.
func CheckTTL(ttl time.Duration) error {
	if ttl < MinTTL || ttl > MaxTTL {
		return fmt.Errorf("ttl %s is out of range: want from %s to %s", ttl, MinTTL, MaxTTL)
	}
	return nil
}
