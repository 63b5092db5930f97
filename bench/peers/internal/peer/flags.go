// Package peer holds what the Go peer servers share: their flags, the HTTP
// front that answers 404 to every path but the WebSocket one, and the run
// loop that stops them on SIGINT or SIGTERM. Each server keeps its own
// connection registry, written the way its library's documentation shows.
package peer

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
)

// Default flag values, shared by every peer so one benchmark command line
// fits all of them.
const (
	DefaultAddr = "127.0.0.1:3001"
	DefaultPath = "/echo"
)

// Options are a peer's command-line settings.
type Options struct {
	Addr  string // listen address, host:port
	Path  string // the WebSocket path; every other path answers 404
	Loops int    // event loops, for libraries that have them; 0 means the library's default
}

// ErrUsage reports bad command-line arguments; the usage text has already
// been written.
var ErrUsage = errors.New("peer: bad arguments")

// Parse reads args (without the program name). withLoops adds the -loops
// flag, for servers whose library has an event-loop count to set. Usage and
// errors go to out.
func Parse(name string, args []string, withLoops bool, out io.Writer) (Options, error) {
	o := Options{Addr: DefaultAddr, Path: DefaultPath}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.Addr, "addr", o.Addr, "listen `address`, host:port")
	fs.StringVar(&o.Path, "path", o.Path, "WebSocket `path`; other paths answer 404")
	if withLoops {
		fs.IntVar(&o.Loops, "loops", 0, "event loops (pollers); 0 means the library's default")
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if err := o.check(fs.Args()); err != nil {
		fmt.Fprintf(out, "%s: %v\n", name, err)
		return o, ErrUsage
	}
	return o, nil
}

func (o Options) check(rest []string) error {
	if len(rest) > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(rest, " "))
	}
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		return fmt.Errorf("bad -addr %q: %w", o.Addr, err)
	}
	if !strings.HasPrefix(o.Path, "/") {
		return fmt.Errorf("bad -path %q: must start with /", o.Path)
	}
	if o.Loops < 0 {
		return fmt.Errorf("bad -loops %d: must not be negative", o.Loops)
	}
	return nil
}
