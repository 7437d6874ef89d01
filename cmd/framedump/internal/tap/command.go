package tap

import (
	"io"
	"os/exec"
)

// Command runs cmd and relays stdin to its standard input and its standard
// output to stdout, recording both under prefix: the client is whoever
// writes stdin (the ssh client, when framedump is the remote command), the
// server is cmd. It returns when cmd's output has ended and cmd has
// exited; it then closes stdin, which a caller must have made interruptible
// (an os.File on a non-blocking descriptor, a pipe), so that no copy is
// left behind. cmd's standard error is left as the caller set it. The error
// is cmd's exit error, or a relay or capture error.
func Command(stdin io.ReadCloser, stdout io.WriteCloser, cmd *exec.Cmd, prefix string, opts Options) error {
	if cmd == nil {
		return errNoCommand
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	client := end{r: stdin, w: stdout,
		closeWrite: stdout.Close,
		close:      func() error { stdin.Close(); return stdout.Close() }}
	server := end{r: out, w: in,
		closeWrite: in.Close,
		close:      func() error { in.Close(); return out.Close() }}
	rerr := session(client, server, prefix, opts)
	werr := cmd.Wait()
	if werr != nil {
		return werr
	}
	return rerr
}
