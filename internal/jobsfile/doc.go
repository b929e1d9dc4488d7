// Package jobsfile reads a jobs file: YAML whose top level is a map with a
// jobs: list (the only key today; room for settings later), each job a
// name, a schedule, exactly one target (command, shell or http) and
// per-job options (timeout, overlap, retries, retry_backoff,
// starting_deadline). See README.md, "Jobs file".
//
// # What it promises
//
//   - Load and Parse check the whole file and report every mistake, not
//     the first: an Errors (errors.Is ErrInvalid) of *Error, each at its
//     FILE:LINE:COLUMN, naming the job and the field. A file with any
//     mistake yields no job. Unknown fields, fields given twice, a name
//     defined twice (or taken by a Go job, Options.Taken) are mistakes.
//   - ${NAME} in command arguments, env values, the URL, header values and
//     the body is replaced from Options.Getenv; an unset or empty variable
//     is a mistake, never an empty string; $$ is a $, any other $ a
//     mistake. Shell scripts are left to the shell.
//   - No value from the environment, nor any env or header value, appears
//     in an error, in Describe or String: jobs are described as written.
//   - Set.Hash is the same for the same definitions whatever the layout,
//     comments, order and environment, and changes with any definition.
//
// # What it does not promise
//
// It checks what the file says, not the world: a command that does not
// exist, a directory that is not there, an endpoint that does not answer
// are errors of their runs (package target). The schedule is checked by the
// caller's Options.ParseSchedule; the per-job options of issue 23
// (overlap, retries, starting_deadline) are read and checked here and
// applied by the scheduler. It reads no environment of its own and no file
// but the one it is given.
package jobsfile
