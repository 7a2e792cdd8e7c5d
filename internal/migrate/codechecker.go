package migrate

import "supervisor/schema"

// codeCheckerRevisions are the alembic revisions of CodeChecker's own
// migration chains (CodeChecker 91350fda, web/server/codechecker_server/
// migrations/{config,report}), head first, down to the initial schema. A
// database at one of them was made by CodeChecker and only needs
// CodeChecker's own upgrade to become adoptable; any other revision is not
// CodeChecker's as far as this supervisor knows (a newer CodeChecker's head,
// a fork's, or junk), and nothing is said about how to upgrade it.
var codeCheckerRevisions = map[schema.Kind][]string{
	schema.Config: {
		"635389f535cd", "511b1b37de2e", "5e1501dfd333", "7ed50f8b3fb8", "04cd4df82fb5",
		"f59dfe4623fa", "00099e8bc212", "7829789fc19c", "cf025b6d7998", "4db450cf38af",
		"7ceea9232211", "302693c76eb8", "dec6feb991e6", "3335ff7593cc", "4964142b58d2",
		"6b9f832d0b20", "bb5278995f41", "150800b30447", "8268fc7ca7f4",
	},
	schema.Product: {
		"b1be74589382", "a7f3c8e21b90", "24c9660f82b1", "198654dac219", "c3dad71f8e6b",
		"9d956a0fae8d", "75ae226b5d88", "fb356f0eefed", "ad2a567e513a", "f8291ab1d6be",
		"a24461972d2e", "dabc6998b8f0", "af5d8a21c1e4", "2185167f8568", "5f8a443a51e5",
		"a79677f54e48", "6cb6a3a41967", "3e91d0612422", "40112fd406e3", "39f9e96071c0",
		"9987aa593ca7", "e89887e7d3f0", "3793e361a752", "080349e895d7", "101a9cb747de",
		"dd9c97ead24", "4b38fa14c27b", "82ca43f05c10",
	},
}

// olderCodeCheckerRevision reports whether rev is one of CodeChecker's
// revisions of kind before the head version 001 reproduces.
func olderCodeCheckerRevision(kind schema.Kind, rev string) bool {
	revs := codeCheckerRevisions[kind]
	for _, r := range revs[1:] {
		if r == rev {
			return true
		}
	}
	return false
}
