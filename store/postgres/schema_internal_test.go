package postgres

import "testing"

func TestVersionCountsTheMigrations(t *testing.T) {
	if len(migrations) != Version {
		t.Fatalf("%d migrations, Version %d: a new migration needs Version one more", len(migrations), Version)
	}
}
