// Package peers holds reference WebSocket servers that bellhop's benchmarks
// run side by side with bellhop itself: one per library (gorilla/websocket,
// lxzan/gws, lesismal/nbio and Node's ws), each speaking the protocol of
// bellhop's echo endpoint. They live in their own module so that their
// libraries never enter the server's go.mod.
//
// The servers are the commands under cmd/ and node/; this package holds only
// the end-to-end tests that build, start and check each of them. See
// README.md for the protocol and how to build and run them.
package peers
