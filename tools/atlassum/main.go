// Command atlassum rewrites the atlas.sum file of each migration directory given
// on the command line, after a migration file was added or (before release) edited.
//
//	go run ./tools/atlassum schema/*/*
package main

import (
	"fmt"
	"os"

	"ariga.io/atlas/sql/migrate"
)

func main() {
	for _, path := range os.Args[1:] {
		if err := writeSum(path); err != nil {
			fmt.Fprintf(os.Stderr, "atlassum: %s: %v\n", path, err)
			os.Exit(1)
		}
	}
}

func writeSum(path string) error {
	dir, err := migrate.NewLocalDir(path)
	if err != nil {
		return err
	}
	sum, err := dir.Checksum()
	if err != nil {
		return err
	}
	return migrate.WriteSumFile(dir, sum)
}
