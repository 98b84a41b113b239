// The server room: transports, sessions, dispatch, the daemon process and the relay.
export type { RequestContext, NotificationContext, Routes, Services, WorkDoneReporter, DoctorCheckProvider } from './context.js';
export { RpcError, cancelledError, isAbortError } from './rpc-error.js';
export { Session, type MessageChannel } from './session.js';
export { Dispatcher } from './dispatch.js';
export { SessionHub } from './hub.js';
export { createRuntime, type Runtime } from './runtime.js';
export { startDaemon, readDaemonInfo, type DaemonInfo, type RunningDaemon } from './daemon.js';
export { AlreadyRunningError, socketAlive, ensurePrivateDir } from './single-instance.js';
export { serveFramedStream } from './transports/framed-stream.js';
export { ensureToken, readToken } from './auth.js';
export { runDoctorChecks, type DoctorCheckResult } from './doctor.js';
export { runRelay, connectOrStartDaemon } from './relay.js';
