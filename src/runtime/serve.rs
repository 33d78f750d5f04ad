//! `wasiwheel serve`: serve a `wasi:http/proxy` component (WASI 0.2,
//! `wasi:http@0.2.x`) over HTTP/1.1 with the embedded wasmtime, as
//! `wasmtime serve -Scli` does.
//!
//! The component is compiled once (through the compiled-code cache that
//! `wasiwheel run` uses) and pre-instantiated once; every request then gets a
//! fresh `Store` and a fresh instance, so no state leaks from one request to
//! the next. The linker provides all of WASI 0.2 (`wasi:cli`,
//! `wasi:filesystem`, `wasi:sockets`, …, which components built from CPython
//! import) besides `wasi:http`; the guest's stdout and stderr are the
//! server's, and it has no preopened directories, arguments or environment.

use std::convert::Infallible;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use camino::Utf8Path;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use wasmtime::component::{Component, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::error::{Error, IoContext, Result};
use crate::runtime::wasm;

/// The interface a `wasi:http/proxy` component exports to handle requests.
const INCOMING_HANDLER: &str = "wasi:http/incoming-handler";

/// The state of one request's `Store`: WASI 0.2 and `wasi:http` contexts
/// sharing one resource table.
struct Host {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for Host {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: Default::default() }
    }
}

/// Parse the listening address given as `--addr`: `IP:PORT` (`127.0.0.1:8080`,
/// `[::1]:8080`) or `HOST:PORT` (`localhost:8080`, its first address).
///
/// Errors: [`Error::Other`] naming `addr` when it is neither.
pub fn parse_addr(addr: &str) -> Result<SocketAddr> {
    if let Ok(a) = addr.parse::<SocketAddr>() {
        return Ok(a);
    }
    let bad = || {
        Error::Other(format!(
            "--addr `{addr}` is not an address to listen on: give IP:PORT, e.g. 127.0.0.1:8080 (port 0 picks a \
             free one)"
        ))
    };
    addr.to_socket_addrs().map_err(|_| bad())?.next().ok_or_else(bad)
}

/// What the bytes of a file are, for the error when they are not a component.
fn not_a_component(path: &Utf8Path, bytes: &[u8]) -> Option<String> {
    let what = if wasmparser::Parser::is_component(bytes) {
        return None;
    } else if wasmparser::Parser::is_core_wasm(bytes) {
        "a core WebAssembly module (such as a WASI preview1 program), not a component".to_string()
    } else if bytes.starts_with(b"\0asm") {
        "WebAssembly of an unknown version".to_string()
    } else if bytes.is_empty() {
        "empty".to_string()
    } else {
        "not WebAssembly (it does not start with the `\\0asm` magic)".to_string()
    };
    Some(format!(
        "{path} is {what}: `wasiwheel serve` needs a WebAssembly component of the wasi:http/proxy world (one that \
         exports {INCOMING_HANDLER}), e.g. built with `componentize-py -w wasi:http/proxy@0.2.0 componentize`"
    ))
}

/// Check that `component` exports `wasi:http/incoming-handler` (any 0.2.x).
///
/// Errors: [`Error::Run`] naming the missing export and listing what the
/// component does export.
fn check_proxy(engine: &Engine, path: &Utf8Path, component: &Component) -> Result<()> {
    let exports: Vec<String> = component.component_type().exports(engine).map(|(name, _)| name.to_string()).collect();
    if exports.iter().any(|e| e.split('@').next() == Some(INCOMING_HANDLER)) {
        return Ok(());
    }
    let has = if exports.is_empty() { "nothing".to_string() } else { exports.join(", ") };
    let hint = if exports.iter().any(|e| e.starts_with("wasi:cli/run@")) {
        " (it is a wasi:cli/command component: run it with `wasiwheel run --component`)"
    } else {
        ""
    };
    Err(Error::Run(format!(
        "{path} does not export {INCOMING_HANDLER}, so it is not a wasi:http/proxy component: it exports {has}{hint}"
    )))
}

/// The response for a request the guest could not answer.
fn internal_error() -> hyper::Response<HyperOutgoingBody> {
    let body = Full::new(Bytes::from_static(b"500 Internal Server Error (the component failed; see the server log)\n"))
        .map_err(|never: Infallible| match never {})
        .boxed_unsync();
    let mut resp = hyper::Response::new(body);
    *resp.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
    resp.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("text/plain"));
    resp
}

/// The pre-instantiated component every request is served by.
struct Server {
    pre: ProxyPre<Host>,
}

impl Server {
    /// Answer `req`: a 500 response (and a line on stderr naming the request)
    /// when the guest traps, or fails before it sets a response.
    async fn handle(
        self: Arc<Self>,
        req: hyper::Request<Incoming>,
    ) -> Result<hyper::Response<HyperOutgoingBody>, Infallible> {
        let what = format!("{} {}", req.method(), req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/"));
        match self.call(req, what.clone()).await {
            Ok(resp) => Ok(resp),
            Err(e) => {
                eprintln!("wasiwheel serve: {what}: {e:?}");
                Ok(internal_error())
            }
        }
    }

    /// Run the guest's `wasi:http/incoming-handler.handle` on `req` in a
    /// fresh instance, and return the response it sets. The guest runs in a
    /// task of its own so that it can go on streaming the body after it has
    /// set the response; a trap after that point is logged with `what`.
    async fn call(
        &self,
        req: hyper::Request<Incoming>,
        what: String,
    ) -> wasmtime::Result<hyper::Response<HyperOutgoingBody>> {
        let wasi = WasiCtx::builder().inherit_stdout().inherit_stderr().build();
        let host = Host { wasi, http: WasiHttpCtx::new(), table: ResourceTable::new() };
        let mut store = Store::new(self.pre.engine(), host);
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let req = store.data_mut().http().new_incoming_request(Scheme::Http, req)?;
        let out = store.data_mut().http().new_response_outparam(sender)?;
        let pre = self.pre.clone();
        let task = tokio::task::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy.wasi_http_incoming_handler().call_handle(&mut store, req, out).await
        });
        match receiver.await {
            Ok(Ok(resp)) => {
                // Report a failure while the body streams (the status is sent already).
                tokio::task::spawn(async move {
                    match task.await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => eprintln!("wasiwheel serve: {what}: after the response was set: {e:?}"),
                        Err(e) => eprintln!("wasiwheel serve: {what}: after the response was set: {e}"),
                    }
                });
                Ok(resp)
            }
            Ok(Err(code)) => {
                Err(wasmtime::Error::msg(format!("the component answered with the error {}", describe(&code))))
            }
            // The sender was dropped with the store: the guest returned or
            // failed without setting a response.
            Err(_) => match task.await {
                Ok(Ok(())) => Err(wasmtime::Error::msg("the component returned without setting a response")),
                Ok(Err(e)) => Err(e.context("the component failed")),
                Err(e) => Err(wasmtime::Error::msg(format!("the component's task failed: {e}"))),
            },
        }
    }
}

/// `ErrorCode` as the guest gave it.
fn describe(code: &ErrorCode) -> String {
    format!("{code:?}")
}

/// Serve the `wasi:http/proxy` component at `path` on `addr` until Ctrl-C or
/// SIGTERM: compile it (or load it from the compiled-code cache), check that
/// it exports `wasi:http/incoming-handler`, pre-instantiate it with WASI 0.2
/// and `wasi:http` 0.2, listen, print `serving http://ADDR/` (the address
/// actually bound, so port 0 shows the port chosen) on stderr, and answer
/// each request with a fresh instance. A request whose instance traps gets a
/// 500 response, and the trap is logged on stderr with the request's method
/// and path; serving goes on.
///
/// Errors: [`Error::Other`] when `path` does not exist; [`Error::Run`] when
/// it is not a component (a core module, other bytes), is not a
/// wasi:http/proxy component (lists what it exports), or imports what WASI
/// 0.2 does not provide; [`Error::Io`] when `addr` cannot be listened on
/// (in use, not a local address).
pub fn serve(path: &Utf8Path, addr: SocketAddr) -> Result<()> {
    if !path.is_file() {
        return Err(Error::Other(format!(
            "{path} does not exist: give a wasi:http/proxy component (e.g. built with `componentize-py -w \
             wasi:http/proxy@0.2.0 componentize`)"
        )));
    }
    let bytes = std::fs::read(path).context(|| format!("cannot read {path}"))?;
    if let Some(message) = not_a_component(path, &bytes) {
        return Err(Error::Run(message));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context(|| "cannot start the server's runtime".to_string())?;
    // Listen first, so that a taken address fails before the compile.
    let listener = runtime.block_on(listen(addr))?;
    let engine = wasm::engine()?;
    let component = wasm::load_component(&engine, path, &bytes)?;
    drop(bytes);
    check_proxy(&engine, path, &component)?;
    let mut linker = wasmtime::component::Linker::<Host>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)
        .map_err(|e| Error::Run(format!("cannot set up WASI: {e:#}")))?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
        .map_err(|e| Error::Run(format!("cannot set up wasi:http: {e:#}")))?;
    let pre = linker
        .instantiate_pre(&component)
        .map_err(|e| Error::Run(format!("{path} cannot be instantiated with WASI 0.2 and wasi:http 0.2: {e:#}")))?;
    let pre =
        ProxyPre::new(pre).map_err(|e| Error::Run(format!("{path} is not a wasi:http/proxy component: {e:#}")))?;
    let server = Arc::new(Server { pre });
    let bound = listener.local_addr().context(|| format!("cannot tell the address of {addr}"))?;
    eprintln!("serving http://{bound}/");
    let r = runtime.block_on(accept_loop(listener, server));
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    r
}

/// Bind and listen on `addr` (address reuse on, as `wasmtime serve`, so that
/// a restart does not wait for the old connections' TIME_WAIT).
async fn listen(addr: SocketAddr) -> Result<tokio::net::TcpListener> {
    let cannot = |e: std::io::Error| Error::Io { context: format!("cannot listen on {addr} (--addr)"), source: e };
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4() } else { tokio::net::TcpSocket::new_v6() }
        .map_err(cannot)?;
    socket.set_reuseaddr(true).map_err(cannot)?;
    socket.bind(addr).map_err(cannot)?;
    socket.listen(1024).map_err(cannot)
}

/// A future that completes at Ctrl-C (SIGINT) or, on Unix, SIGTERM.
fn stop_signal() -> Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context(|| "cannot listen for SIGTERM".to_string())?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// Accept connections and serve each (HTTP/1.1, keep-alive) in a task of its
/// own, until Ctrl-C or SIGTERM.
async fn accept_loop(listener: tokio::net::TcpListener, server: Arc<Server>) -> Result<()> {
    let stop = stop_signal()?;
    tokio::pin!(stop);
    loop {
        let (client, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not give up.
                    eprintln!("wasiwheel serve: cannot accept a connection: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let server = server.clone();
        tokio::task::spawn(async move {
            let service = hyper::service::service_fn(move |req| server.clone().handle(req));
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(client), service)
                .await
            {
                eprintln!("wasiwheel serve: connection from {peer}: {e}");
            }
        });
    }
    eprintln!("wasiwheel serve: stopped");
    Ok(())
}
