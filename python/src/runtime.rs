//! The module's own Tokio runtime, HTTP clients and asyncio bridge.
//!
//! One multi-thread runtime per process, made on first use: every provider loads and refreshes on
//! it, so a refresh never runs on a Python thread. A forked child gets a runtime of its own: the
//! parent's worker threads do not exist there, so [`after_fork_in_child`] (registered with
//! `os.register_at_fork` by the package) starts a new generation, and providers rebuild themselves
//! on it at their next call. The parent's runtime is leaked in the child, never dropped: dropping it
//! would wait for threads that were not forked.

use arc_swap::ArcSwapOption;
use mse_auth_providers::http::HttpClient;
use mse_auth_providers::Context;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyCFunction;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::runtime::Runtime;

/// Bumped in a forked child: everything made in an earlier generation is made again.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The runtime and context of one process generation.
struct Process {
    generation: u64,
    runtime: &'static Runtime,
    context: Context,
}

static PROCESS: ArcSwapOption<Process> = ArcSwapOption::const_empty();

/// The current process generation.
#[inline]
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// Called in a forked child (`os.register_at_fork(after_in_child=…)`): the next call of every
/// provider builds it again, on a new runtime with new HTTP clients.
#[pyfunction]
pub(crate) fn after_fork_in_child() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
}

fn process() -> PyResult<Arc<Process>> {
    let generation = generation();
    let current = PROCESS.load_full();
    if let Some(p) = current.as_ref().filter(|p| p.generation == generation) {
        return Ok(p.clone());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("mse-auth")
        .enable_all()
        .build()
        .map_err(|e| {
            pyo3::exceptions::PyRuntimeError::new_err(format!(
                "mse_auth cannot start its Tokio runtime: {e}"
            ))
        })?;
    let fresh = Arc::new(Process {
        generation,
        runtime: Box::leak(Box::new(runtime)),
        // New HTTP clients: pooled connections of an earlier generation belong to its runtime.
        context: Context::default().with_http(HttpClient::default()),
    });
    let previous = PROCESS.compare_and_swap(&current, Some(fresh.clone()));
    match previous.as_ref() {
        // Another thread won the race with a runtime of this generation: use that one (ours was
        // never used; it is leaked, as runtimes are).
        Some(p) if p.generation == generation && !Arc::ptr_eq(p, &fresh) => Ok(p.clone()),
        _ => Ok(fresh),
    }
}

/// The runtime of this process generation.
pub(crate) fn runtime() -> PyResult<&'static Runtime> {
    Ok(process()?.runtime)
}

/// The context (environment, files, clock, HTTP clients) of this process generation.
pub(crate) fn context() -> PyResult<Context> {
    Ok(process()?.context.clone())
}

/// Runs `future` on the module's runtime with the GIL released, and waits for it.
pub(crate) fn block_on<F>(py: Python<'_>, future: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let runtime = runtime()?;
    Ok(py.detach(|| runtime.block_on(future)))
}

/// Converts a finished Rust result into what the asyncio future gets.
pub(crate) type Outcome = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

/// An asyncio future of the running loop, completed with `future`'s outcome. `future` runs on the
/// module's runtime; its outcome is handed to the loop with `call_soon_threadsafe`, so nothing runs
/// on the loop's thread but setting the result. A cancelled asyncio future is left alone.
pub(crate) fn spawn_into_asyncio<'py, F>(py: Python<'py>, future: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Outcome> + Send + 'static,
{
    let event_loop = running_loop(py)?;
    let py_future = event_loop.call_method0(pyo3::intern!(py, "create_future"))?;
    let event_loop = event_loop.unbind();
    let target = py_future.clone().unbind();
    runtime()?.spawn(async move {
        let outcome = future.await;
        Python::attach(|py| {
            let (ok, value) = match outcome(py) {
                Ok(value) => (true, value),
                Err(err) => (false, err.into_value(py).into_any()),
            };
            let resolve = match resolver(py) {
                Ok(resolve) => resolve,
                Err(_) => return,
            };
            // A closed loop raises RuntimeError: nobody is waiting any more.
            let _ = event_loop.call_method1(
                py,
                pyo3::intern!(py, "call_soon_threadsafe"),
                (resolve, target, ok, value),
            );
        });
    });
    Ok(py_future)
}

/// An asyncio future of the running loop that is already done with `value`: awaiting it does not
/// yield to the loop.
pub(crate) fn ready_future<'py>(
    py: Python<'py>,
    value: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let future = running_loop(py)?.call_method0(pyo3::intern!(py, "create_future"))?;
    future.call_method1(pyo3::intern!(py, "set_result"), (value,))?;
    Ok(future)
}

fn running_loop(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    GET_RUNNING_LOOP
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("asyncio")?.getattr("get_running_loop")?.unbind())
        })?
        .bind(py)
        .call0()
}

/// `resolve(future, ok, value)`: sets the result or the exception unless the future is done.
fn resolver(py: Python<'_>) -> PyResult<&Py<PyCFunction>> {
    static RESOLVE: PyOnceLock<Py<PyCFunction>> = PyOnceLock::new();
    RESOLVE.get_or_try_init(py, || {
        Ok::<_, PyErr>(wrap_pyfunction!(resolve, py)?.unbind())
    })
}

#[pyfunction]
fn resolve(future: &Bound<'_, PyAny>, ok: bool, value: Bound<'_, PyAny>) -> PyResult<()> {
    let py = future.py();
    if future
        .call_method0(pyo3::intern!(py, "done"))?
        .is_truthy()?
    {
        return Ok(());
    }
    let method = if ok {
        pyo3::intern!(py, "set_result")
    } else {
        pyo3::intern!(py, "set_exception")
    };
    future.call_method1(method, (value,))?;
    Ok(())
}
