package pass

import "strings"

// Question is one question a pass asks the operator (Options.Ask).
type Question struct {
	Text string
	// Fleet marks a question of the per-product round (migrate's "Do you
	// want to upgrade 'E'..."), which 'a' (all) and 'q' (quit) answer for
	// every remaining product too. The config database question is not one:
	// it comes before the operator has seen a product, so it offers yes or
	// no only, and 'a' or 'q' there is no recognised answer (taken as no).
	Fleet bool
}

// Answer is what one answer line means.
type Answer int

const (
	No   Answer = iota
	Yes         // yes to this one
	All         // yes to this and every remaining product
	Quit        // no to this and every remaining product
)

// Yes says whether a is a yes to the question it answers.
func (a Answer) Yes() bool { return a == Yes || a == All }

// ForRest says whether a answers every remaining per-product question too.
func (a Answer) ForRest() bool { return a == All || a == Quit }

// DefaultAnswer is what an empty line answers: no, as in CodeChecker, whose
// prompt shows the same "Y(es)/n(o)" and upgrades on a "y" only.
const DefaultAnswer = No

// Choices is what the prompt shows after the question: the answers q takes
// and, in brackets, the default an empty line takes.
func (q Question) Choices() string {
	if q.Fleet {
		return "Y(es)/n(o)/a(ll)/q(uit) [n]"
	}
	return "Y(es)/n(o) [n]"
}

// ParseAnswer reads one answer line (blanks around it and case do not
// matter): y/yes, n/no, an empty line (DefaultAnswer) and, for a Fleet
// question, a/all and q/quit. Anything else is No with ok false: an answer
// the prompt did not offer never upgrades a database.
func ParseAnswer(q Question, line string) (a Answer, ok bool) {
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "":
		return DefaultAnswer, true
	case "y", "yes":
		return Yes, true
	case "n", "no":
		return No, true
	case "a", "all":
		if q.Fleet {
			return All, true
		}
	case "q", "quit":
		if q.Fleet {
			return Quit, true
		}
	}
	return No, false
}
