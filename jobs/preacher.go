package jobs

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Preacher returns a job that writes sermon to out, times times, pause apart,
// stopping early when its context ends.
func Preacher(name, schedule, sermon string, out io.Writer, times int, pause time.Duration) Job {
	return Job{
		Name:     name,
		Schedule: schedule,
		Run: func(ctx context.Context) error {
			for i := range times {
				if i > 0 {
					t := time.NewTimer(pause)
					select {
					case <-ctx.Done():
						t.Stop()
						return ctx.Err()
					case <-t.C:
					}
				}
				if _, err := fmt.Fprintln(out, sermon); err != nil {
					return err
				}
			}
			return nil
		},
	}
}
