//! `list`: walk the pre-filled bucket with ListObjectsV2, again and again.
//! One operation is one whole walk; every page and every walk's first page
//! are timed too. A walk must return every key once, in order.

use std::sync::Arc;
use std::time::Instant;

use futures::future::BoxFuture;

use super::describe;
use crate::workload::{Context, Tally, Workload, DEFAULT_OBJECTS};

pub(crate) fn list(context: Arc<Context>, _worker: usize) -> BoxFuture<'static, Tally> {
    Box::pin(async move {
        let mut tally = Tally::default();
        while context.tickets.take().is_some() {
            if !walk(&context, &mut tally).await {
                break;
            }
            context.finished_one();
        }
        tally
    })
}

/// One walk over the bucket; false when the phase was stopped during it.
async fn walk(context: &Context, tally: &mut Tally) -> bool {
    let Workload::List { page_size } = context.workload else {
        unreachable!("the driver runs `list` only for Workload::List");
    };
    let expected_keys = context.load.objects.unwrap_or(DEFAULT_OBJECTS);
    let walk_started = Instant::now();
    let mut continuation_token: Option<String> = None;
    let mut keys_seen = 0u64;
    let mut last_key: Option<String> = None;
    let mut first_page = true;
    loop {
        let started = Instant::now();
        let request = context
            .client
            .list_objects_v2()
            .bucket(&context.bucket)
            .max_keys(page_size)
            .set_continuation_token(continuation_token.take())
            .send();
        let page = match context.stop.run_until_cancelled(request).await {
            None => return false,
            Some(Err(error)) => {
                tally.error("list-page", describe(error));
                tally.error("list-walk", "a page failed".to_owned());
                return true;
            }
            Some(Ok(page)) => page,
        };
        let latency = started.elapsed();
        tally.op("list-page").record_ok(latency, 0);
        if first_page {
            tally.op("list-first-page").record_ok(latency, 0);
            first_page = false;
        }
        for object in page.contents() {
            let key = object.key().unwrap_or_default();
            if last_key.as_deref().is_some_and(|last| last >= key) {
                tally.verify_error("list-walk", format!("key {key:?} out of order"));
                return true;
            }
            last_key = Some(key.to_owned());
        }
        let page_keys = page.contents().len() as u64;
        keys_seen += page_keys;
        tally.keys_listed += page_keys;
        if page.is_truncated() != Some(true) {
            break;
        }
        match page.next_continuation_token() {
            Some(token) => continuation_token = Some(token.to_owned()),
            None => {
                tally.verify_error("list-walk", "truncated page without a token".to_owned());
                return true;
            }
        }
    }
    if keys_seen == expected_keys {
        tally.op("list-walk").record_ok(walk_started.elapsed(), 0);
    } else {
        tally.verify_error(
            "list-walk",
            format!("listed {keys_seen} keys, expected {expected_keys}"),
        );
    }
    true
}
