// Package proctest lets tests see processes through /proc (Linux): which
// are alive, and which belong to a process group. It promises nothing about
// processes that come and go during a scan, beyond what one pass saw.
//
// Elsewhere than Linux it is empty.
package proctest
