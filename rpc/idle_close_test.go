package rpc

import (
	"sync"
	"testing"

	"github.com/framerpc/framerpc/internal/unixpair"
)

// [RPC-42] A server's idle close and the application's Close may come at
// once: whichever takes the turn, the client's background reader ends and
// no goroutine outlives the client.
func TestCloseRacesIdleEnd(t *testing.T) {
	checkGoroutines(t)
	for range 2000 {
		cc, sc, err := unixpair.New()
		if err != nil {
			t.Fatal(err)
		}
		c := NewClient(cc, nil)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			sc.Write([]byte{0xff, 0x01, 0, 0, 0, 0}) // RST at the message boundary
			sc.Close()
		}()
		go func() {
			defer wg.Done()
			c.Close()
		}()
		wg.Wait()
		<-c.Done()
	}
}
