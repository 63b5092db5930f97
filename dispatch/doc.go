// Package dispatch turns the WebSocket engine into the hotel's real-time
// service: the event envelope, authentication and roles, namespaces and
// subscriptions, the sharded priority queues and the event handlers (room
// status, service requests, guest, housekeeping, maintenance and system
// alerts). It sits on top of engine (connections, fan-out) and cluster
// (brokers, history).
package dispatch
