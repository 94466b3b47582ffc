//! A client of a running `orders-local`: posts orders as a user would, and reads the
//! emulator to know when every accepted order has settled.

use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use orders_core::Order;
use serde_json::Value;

use crate::ready::Ready;

/// The API's answer to one posted order.
#[derive(Debug, Clone)]
pub struct Posted {
    pub status: u16,
    /// The `X-Order-Id` header of an accepted order.
    pub order_id: Option<String>,
    pub at: SystemTime,
}

/// Posts every body to `POST /orders`, `concurrency` at a time, and returns the answers
/// (in the order they came). A request that gets no answer at all is an error.
pub async fn post_orders(
    http: &reqwest::Client,
    api_url: &str,
    bodies: impl IntoIterator<Item = Value>,
    concurrency: usize,
) -> anyhow::Result<Vec<Posted>> {
    let url = format!("{api_url}/orders");
    futures_util::stream::iter(bodies)
        .map(|body| {
            let request = http
                .post(&url)
                .header("content-type", "application/json")
                .body(body.to_string());
            async move {
                let response = request.send().await.context("POST /orders")?;
                let order_id = response
                    .headers()
                    .get("x-order-id")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                Ok(Posted {
                    status: response.status().as_u16(),
                    order_id,
                    at: SystemTime::now(),
                })
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect::<Vec<anyhow::Result<Posted>>>()
        .await
        .into_iter()
        .collect()
}

/// Every stored order, straight from the table.
pub async fn stored_orders(sdk: &aws_config::SdkConfig, table: &str) -> anyhow::Result<Vec<Order>> {
    let client = aws_sdk_dynamodb::Client::new(sdk);
    let mut orders = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .context("scan the orders table")?;
        for item in page.items.unwrap_or_default() {
            orders.push(serde_dynamo::from_item(item).context("a stored order")?);
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            return Ok(orders);
        }
    }
}

/// Messages waiting or in flight in a queue.
pub async fn queue_depth(sdk: &aws_config::SdkConfig, queue_url: &str) -> anyhow::Result<u64> {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let attributes = aws_sdk_sqs::Client::new(sdk)
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(A::All)
        .send()
        .await
        .context("read the queue's attributes")?
        .attributes
        .unwrap_or_default();
    let mut depth = 0;
    for name in [
        A::ApproximateNumberOfMessages,
        A::ApproximateNumberOfMessagesNotVisible,
    ] {
        depth += attributes
            .get(&name)
            .context("a queue depth attribute")?
            .parse::<u64>()?;
    }
    Ok(depth)
}

/// The state of the pipeline once nothing is left in flight.
#[derive(Debug, Clone)]
pub struct Settled {
    /// Every stored order; once idle, every one is final and its customer notified.
    pub orders: Vec<Order>,
    /// Messages in the dead-letter queue.
    pub dead_letters: u64,
    /// The name (the order id) of every execution of the workflow, as often as it ran.
    pub executions: Vec<String>,
}

/// Whether an order has settled: a final status, and the customer told of it.
pub fn has_settled(order: &Order) -> bool {
    order.status.is_final() && order.notified_status == Some(order.status)
}

/// Every execution of the state machine: its name (the order id) and whether it still runs.
pub async fn executions(
    sdk: &aws_config::SdkConfig,
    state_machine_arn: &str,
) -> anyhow::Result<Vec<(String, bool)>> {
    use aws_sdk_sfn::types::ExecutionStatus;
    let sfn = aws_sdk_sfn::Client::new(sdk);
    let mut found = Vec::new();
    let mut token = None;
    loop {
        let page = sfn
            .list_executions()
            .state_machine_arn(state_machine_arn)
            .set_next_token(token)
            .max_results(1000)
            .send()
            .await
            .context("list the executions")?;
        found.extend(
            page.executions
                .into_iter()
                .map(|e| (e.name, e.status == ExecutionStatus::Running)),
        );
        token = page.next_token;
        if token.is_none() {
            return Ok(found);
        }
    }
}

/// Waits until the pipeline is idle, and returns what it holds then; fails after `limit`,
/// saying how far it got. Idle is read from the emulator, not from a quiet time: the order
/// queue is empty (nothing waiting or being handled), no execution runs, and every
/// execution's order and every stored order has settled (one that ended unsettled is
/// settled by the runner's watcher). Nothing can then reach the table any more, so an
/// accepted order missing from both the table and the dead-letter queue is lost for good.
/// `accepted` only sizes the progress message; the state is read twice in a row, in that
/// order (queue, executions, table), so a message moving between two reads is not missed.
pub async fn settle(
    sdk: &aws_config::SdkConfig,
    ready: &Ready,
    accepted: usize,
    limit: Duration,
) -> anyhow::Result<Settled> {
    let deadline = Instant::now() + limit;
    let mut idle_before = false;
    loop {
        let queued = queue_depth(sdk, &ready.queue_url).await?;
        let executions = executions(sdk, &ready.state_machine_arn).await?;
        let orders = stored_orders(sdk, &ready.table).await?;
        let dead_letters = queue_depth(sdk, &ready.dead_letter_queue_url).await?;
        let settled: std::collections::HashSet<&str> = orders
            .iter()
            .filter(|o| has_settled(o))
            .map(|o| o.order_id.as_str())
            .collect();
        let idle = queued == 0
            && settled.len() == orders.len()
            && executions
                .iter()
                .all(|(name, running)| !running && settled.contains(name.as_str()));
        if idle && idle_before {
            return Ok(Settled {
                executions: executions.into_iter().map(|(name, _)| name).collect(),
                orders,
                dead_letters,
            });
        }
        idle_before = idle;
        if Instant::now() > deadline {
            bail!(
                "after {limit:?}: {} settled + {dead_letters} dead of {accepted} accepted, \
                 {queued} queued, {} running",
                settled.len(),
                executions.iter().filter(|(_, running)| *running).count()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Seconds from each accepted order's 204 to its last change, sorted.
pub fn post_to_final_seconds(posted: &[Posted], orders: &[Order]) -> Vec<f64> {
    let accepted_at: std::collections::HashMap<&str, SystemTime> = posted
        .iter()
        .filter_map(|p| Some((p.order_id.as_deref()?, p.at)))
        .collect();
    let mut seconds: Vec<f64> = orders
        .iter()
        .filter(|o| has_settled(o))
        .filter_map(|o| {
            let finished: SystemTime = o.updated_at.into();
            let at = accepted_at.get(o.order_id.as_str())?;
            Some(
                finished
                    .duration_since(*at)
                    .unwrap_or_default()
                    .as_secs_f64(),
            )
        })
        .collect();
    seconds.sort_by(f64::total_cmp);
    seconds
}

/// The value at fraction `p` of sorted figures (nearest rank); NaN for none.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let sorted = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&sorted, 0.5), 3.0);
        assert_eq!(percentile(&sorted, 0.99), 5.0);
        assert_eq!(percentile(&sorted, 0.0), 1.0);
        assert!(percentile(&[], 0.5).is_nan());
    }
}
