// Types of bellhop.js, for TypeScript users and editors.

export declare const State: {
  readonly IDLE: "idle"; readonly CONNECTING: "connecting"; readonly OPEN: "open";
  readonly RECONNECTING: "reconnecting"; readonly CLOSED: "closed";
};
export type ConnectionState = (typeof State)[keyof typeof State];

export declare const Close: {
  readonly GOING_AWAY: 1001; readonly AUTH_REQUIRED: 4001; readonly TOKEN_EXPIRED: 4002;
  readonly REVOKED: 4003; readonly SLOW_CONSUMER: 4008; readonly TOO_FAST: 4029;
};

export interface Backoff { initial: number; max: number; factor: number }
export declare const defaultBackoff: Readonly<Backoff>;
export declare function backoffDelay(attempt: number, backoff?: Backoff, random?: () => number): number;

export declare class BellhopError extends Error {
  code: string;
  constructor(code: string, message: string);
}

export type Namespace = "rooms" | "service" | "guests" | "housekeeping" | "maintenance" | "system" | "me";
export type RoomStatus = "AVAILABLE" | "OCCUPIED" | "DIRTY" | "CLEANING" | "CLEANED" | "INSPECTED" | "MAINTENANCE" | "OUT_OF_ORDER";
export type RequestStatus = "CREATED" | "ASSIGNED" | "ACCEPTED" | "IN_PROGRESS" | "COMPLETED" | "ESCALATED" | "CANCELLED";

export interface Envelope<P = unknown> {
  event: string; namespace?: string; payload: P; timestamp?: string; messageId?: string;
  correlationId?: string; sender?: string; priority?: "HIGH" | "MEDIUM" | "LOW";
}
export interface Identity { sub: string; role: string; property: string; room?: string; expiresAt: string }
export interface Room {
  roomNumber: string; status: RoomStatus; floor: number; version: number; updatedAt: string; updatedBy?: string;
  previousStatus?: RoomStatus; note?: string;
}
export interface ServiceRequest {
  requestId: string; roomNumber: string; type: string; department: string; description?: string;
  priority: string; status: RequestStatus; assignee?: string; createdBy: string; createdAt: string;
  updatedAt: string; acceptBy?: string; attempt: number; version: number;
}
export interface RequestChange { action: string; request: ServiceRequest; note?: string }
export interface Alert { message: string; severity?: "info" | "warning" | "critical"; roomNumber?: string; floor?: number; assignee?: string; scope?: string }
export interface Subscribed {
  namespace: Namespace; channel: string; recovered: boolean; position?: string; missed: number;
  snapshot?: { property: string; rooms: Room[] }; requests?: ServiceRequest[];
}
export interface Ack<D = unknown> { event: string; messageId?: string; data?: D; queued?: boolean }

export interface ClientOptions {
  token?: string;
  getToken?: () => string | Promise<string>;
  WebSocket?: unknown;
  protocols?: string[];
  backoff?: Backoff;
  callTimeout?: number;
}

export declare class BellhopClient {
  constructor(url: string, opts?: ClientOptions);
  readonly state: ConnectionState;
  readonly identity: Identity | null;
  on(event: "state", fn: (state: ConnectionState, detail: { attempt?: number; delay?: number; code?: number; error?: Error }) => void): () => void;
  on(event: "resync", fn: (r: { namespace: Namespace; snapshot: Subscribed["snapshot"] | null; requests: ServiceRequest[] | null }) => void): () => void;
  on(event: "ROOM_STATUS_UPDATE", fn: (room: Room, env: Envelope<Room>) => void): () => void;
  on(event: "SERVICE_REQUEST", fn: (req: ServiceRequest, env: Envelope<ServiceRequest>) => void): () => void;
  on(event: "SERVICE_REQUEST_UPDATE", fn: (ch: RequestChange, env: Envelope<RequestChange>) => void): () => void;
  on(event: "SYSTEM_ALERT" | "HOUSEKEEPING_ALERT" | "MAINTENANCE_ALERT", fn: (a: Alert, env: Envelope<Alert>) => void): () => void;
  on(event: "message", fn: (env: Envelope) => void): () => void;
  on(event: "error", fn: (e: Error) => void): () => void;
  on(event: string, fn: (payload: any, env: Envelope) => void): () => void;
  off(event: string, fn: (...args: any[]) => void): void;
  connect(): Promise<Identity>;
  subscribe(namespace: Namespace, since?: string): Promise<Subscribed>;
  unsubscribe(namespace: Namespace): Promise<unknown>;
  refreshToken(token?: string): Promise<Identity>;
  call<D = unknown>(event: string, payload?: unknown, namespace?: Namespace): Promise<Ack<D>>;
  updateRoom(roomNumber: string, status: RoomStatus, extra?: { version?: number; floor?: number; note?: string }): Promise<Ack>;
  createRequest(req: { type: string; roomNumber?: string; department?: string; description?: string }): Promise<Ack<ServiceRequest>>;
  requestAction(requestId: string, action: "accept" | "decline" | "start" | "complete" | "cancel", note?: string): Promise<Ack<ServiceRequest>>;
  acceptRequest(id: string, note?: string): Promise<Ack<ServiceRequest>>;
  declineRequest(id: string, note?: string): Promise<Ack<ServiceRequest>>;
  startRequest(id: string, note?: string): Promise<Ack<ServiceRequest>>;
  completeRequest(id: string, note?: string): Promise<Ack<ServiceRequest>>;
  cancelRequest(id: string, note?: string): Promise<Ack<ServiceRequest>>;
  ack(messageId: string): boolean;
  close(): void;
}
