//! Doing one thing many times at once, the way a crowd (or a retrying Stripe) does.
use std::future::Future;
use std::task::Poll;

/// Runs `task(0)`, `task(1)` … `task(n - 1)` at the same time and returns what each
/// returned, in that order.
///
/// Every copy is started before any of them is waited for, so all `n` requests are in
/// flight together. The copies are polled on the test's own task, so they may borrow the
/// test's values (`async |i| vote(&patron, &round, &topics[i]).await`); the requests still
/// run in parallel, because the test client drives each connection on a task of its own and
/// the app serves each on a task of its own (use a multi-thread test runtime to spread
/// them over threads). A failed assertion inside a copy fails the test.
pub async fn concurrently<T>(n: usize, task: impl AsyncFn(usize) -> T) -> Vec<T> {
    let mut running: Vec<_> = (0..n).map(|i| Box::pin(task(i))).collect();
    let mut finished: Vec<Option<T>> = (0..n).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut waiting = false;
        for (copy, output) in running.iter_mut().zip(finished.iter_mut()) {
            if output.is_none() {
                match copy.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => waiting = true,
                }
            }
        }
        if waiting { Poll::Pending } else { Poll::Ready(()) }
    })
    .await;
    finished.into_iter().map(|output| output.expect("every copy has finished")).collect()
}
