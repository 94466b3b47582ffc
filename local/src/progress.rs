//! One line per step of an order on standard output, so a user can follow orders as
//! they move: `HH:MM:SS.mmm  order ID  what happened`.

use orders_aws::HandlerError;
use orders_core::{Dispatch, OrderId};

fn line(order_id: &str, what: std::fmt::Arguments<'_>) {
    println!(
        "{}  order {order_id}  {what}",
        chrono::Local::now().format("%H:%M:%S%.3f")
    );
}

pub fn accepted(order_id: &str) {
    line(order_id, format_args!("accepted by the API and queued"));
}

pub fn order_state(
    input: &manage_order_state::Input,
    outcome: &Result<manage_order_state::Output, HandlerError>,
) {
    use manage_order_state::{Input, Output, Request};
    let order = match outcome {
        Ok(Output::Order(order)) => order,
        Ok(Output::Watch(watch)) => {
            return line(
                input.order_id(),
                format_args!("no cancel; {} s of the wait left", watch.left + watch.sleep),
            );
        }
        Err(_) => return,
    };
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
        Input::Task(Request::Cancelled { .. }) => line(
            order.order_id.as_str(),
            format_args!(
                "status {}, {}",
                order.status,
                match (&order.refund, &order.refund_failure) {
                    (Some(refund), _) => format!("refunded ({})", refund.refund_id),
                    (None, Some(failure)) => format!("refund failed ({})", failure.error),
                    (None, None) => "nothing was charged".to_owned(),
                }
            ),
        ),
        // Answered above.
        Input::Task(Request::Watch { .. }) => {}
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

pub fn payment(order_id: &OrderId, answer: &process_payment::Answer) {
    let payment = match answer {
        process_payment::Answer::Payment(payment) => payment,
        process_payment::Answer::Refund(refund) => {
            return line(
                order_id.as_str(),
                format_args!(
                    "payment {} refunded, {}",
                    refund.payment_id, refund.refund_id
                ),
            );
        }
    };
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

/// An order event the pipe put on the bus.
pub fn event(event: &orders_core::events::OrderEvent) {
    line(
        event.order_id.as_str(),
        format_args!(
            "event: {} (version {}) on the orders bus",
            event.status, event.version
        ),
    );
}
