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

/// The state of the pipeline once every accepted order has settled.
#[derive(Debug, Clone)]
pub struct Settled {
    /// Every stored order; the settled ones are final and their customer notified.
    pub orders: Vec<Order>,
    pub dead_letters: u64,
}

/// Whether an order has settled: a final status, and the customer told of it.
pub fn has_settled(order: &Order) -> bool {
    order.status.is_final() && order.notified_status == Some(order.status)
}

/// Waits until `accepted` orders have settled or sit in the DLQ; fails after `limit`,
/// saying how far it got.
pub async fn settle(
    sdk: &aws_config::SdkConfig,
    ready: &Ready,
    accepted: usize,
    limit: Duration,
) -> anyhow::Result<Settled> {
    let deadline = Instant::now() + limit;
    loop {
        let orders = stored_orders(sdk, &ready.table).await?;
        let settled = orders.iter().filter(|o| has_settled(o)).count();
        let dead_letters = queue_depth(sdk, &ready.dead_letter_queue_url).await?;
        if settled + dead_letters as usize >= accepted {
            return Ok(Settled {
                orders,
                dead_letters,
            });
        }
        if Instant::now() > deadline {
            bail!(
                "after {limit:?}: {settled} settled + {dead_letters} dead of {accepted} accepted"
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
