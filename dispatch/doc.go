// Package dispatch turns the WebSocket engine into the hotel's real-time
// service: the event envelope, authentication and roles, namespaces and
// subscriptions, the sharded priority queues and the event handlers (room
// status, service requests, guest, housekeeping, maintenance and system
// alerts). It sits on top of engine (connections, fan-out) and cluster
// (brokers, history, store).
//
// # Concurrency
//
// A connection's session is owned by its event loop and touched only in
// the engine.Handler callbacks and in functions run by Conn.AsyncDo.
// Anything that may wait (broker, store) runs on a fixed pool of workers
// (dispatch/pqueue), keyed so that one room's, one request's or one
// channel's jobs run in order on one worker; workers answer through
// Conn.AsyncDo and Conn.AsyncSend, so an event loop never waits for a
// handler. The broker delivers each publication once per node to
// Service.Deliver, which renders it once (JSON with its messageId, frame,
// deflate) and hands it to the loops with subscribers.
//
// A SUBSCRIBE joins the channel's engine topic with every delivery held
// back, reads the history after since under broker.Recover (which holds the
// channel's deliveries), sends the replay and then lowers the topic's
// filter to the replay's last offset: no gap, no duplicate (subscribe.go).
//
// # Usage
//
//	svc, _ := dispatch.New(dispatch.Config{Verifier: v, Store: cluster.NewMemoryStore()})
//	broker := cluster.NewMemoryBroker(cluster.MemoryConfig{}, svc.Deliver)
//	srv, _ := engine.New(engine.Config{Routes: map[string]engine.Handler{"/ws": svc}})
//	svc.Start(srv, broker) // before srv.Start
//	_ = srv.Start()
//	admin.Handle("/api/", svc.API(apiKey))
package dispatch
