//! One line per step of an order on standard output, so a user can follow orders as
//! they move: `HH:MM:SS.mmm  order ID  what happened`.

use orders_aws::HandlerError;
use orders_core::{Dispatch, Order, OrderId, Payment};

fn line(order_id: &str, what: std::fmt::Arguments<'_>) {
    println!(
        "{}  order {order_id}  {what}",
        chrono::Local::now().format("%H:%M:%S%.3f")
    );
}

pub fn accepted(order_id: &str) {
    line(order_id, format_args!("accepted by the API and queued"));
}

pub fn order_state(input: &manage_order_state::Input, outcome: &Result<Order, HandlerError>) {
    use manage_order_state::{Input, Request};
    let Ok(order) = outcome else { return };
    match input {
        Input::Task(Request::Create { .. }) => line(
            order.order_id.as_str(),
            format_args!(
                "saved: {} for restaurant {:?}, status {}",
                order.quantity, order.restaurant_id, order.status
            ),
        ),
        Input::Task(Request::SetStatus { .. }) => line(
            order.order_id.as_str(),
            format_args!("status {}", order.status),
        ),
        Input::ExecutionEnded(event) => line(
            order.order_id.as_str(),
            format_args!(
                "its execution ended {}: status {}{}",
                event.detail.status,
                order.status,
                order
                    .failure
                    .as_ref()
                    .map(|f| format!(" ({})", f.error))
                    .unwrap_or_default()
            ),
        ),
    }
}

pub fn payment(order_id: &OrderId, payment: &Payment) {
    let outcome = if payment.is_paid() {
        "paid"
    } else {
        "not paid (declined)"
    };
    line(
        order_id.as_str(),
        format_args!("payment {outcome}, {}", payment.payment_id),
    );
}

pub fn dispatched(order_id: &OrderId, dispatch: &Dispatch) {
    line(
        order_id.as_str(),
        format_args!("handed to the restaurant, reference {}", dispatch.reference),
    );
}

pub fn fault(function: &str, order_id: Option<&str>, err: &HandlerError) {
    line(
        order_id.unwrap_or("-"),
        format_args!("{function}: injected fault {}", err.name),
    );
}

pub fn failed(function: &str, order_id: Option<&str>, err: &HandlerError) {
    line(
        order_id.unwrap_or("-"),
        format_args!("{function} failed: {}: {}", err.name, err.message),
    );
}

pub fn notified(order_id: &str, subject: &str) {
    line(order_id, format_args!("customer email: {subject}"));
}

pub fn restaurant_received(order_id: &str, restaurant_id: &str) {
    line(
        order_id,
        format_args!("restaurant {restaurant_id:?} received the order"),
    );
}

/// A queue message start-order could not take: it comes back until the redrive moves it
/// to the dead-letter queue.
pub fn message_refused(message_id: &str, receive_count: &str) {
    println!(
        "{}  message {message_id}  refused by start-order (receive {receive_count} of {})",
        chrono::Local::now().format("%H:%M:%S%.3f"),
        orders_blueprint::MAX_RECEIVE_COUNT
    );
}

pub fn lost_execution(order_id: &str) {
    line(
        order_id,
        format_args!("the emulator never ran this order's workflow; stopping it (WorkflowLost)"),
    );
}
