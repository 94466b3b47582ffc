//! `orders-admin`: the dead letters of a Serverless Orders stack.
//!
//!   orders-admin dlq list    --queue-url DLQ_URL
//!   orders-admin dlq show    --queue-url DLQ_URL MESSAGE_ID
//!   orders-admin dlq redrive --queue-url DLQ_URL [--to SOURCE_URL] (--all | MESSAGE_ID...)
//!
//! DLQ_URL is a stack output (`dlqUrl`, `unsettledDlqUrl`) or, in local mode, the runner's
//! banner. Credentials, region and endpoint come as for the AWS CLI (`AWS_PROFILE`,
//! `AWS_REGION`, `AWS_ENDPOINT_URL`).

use clap::{Parser, Subcommand};
use orders_admin::{DeadLetterQueue, sdk_config};

#[derive(Parser)]
#[command(
    name = "orders-admin",
    about = "The dead letters of a Serverless Orders stack"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A dead-letter queue's messages.
    #[command(subcommand)]
    Dlq(Dlq),
}

#[derive(Subcommand)]
enum Dlq {
    /// Each message: id, order id, receive count, age.
    List {
        #[arg(long)]
        queue_url: String,
    },
    /// One message, whole.
    Show {
        #[arg(long)]
        queue_url: String,
        message_id: String,
    },
    /// Sends messages back to the queue they came from, then deletes them here.
    Redrive {
        #[arg(long)]
        queue_url: String,
        /// The queue to send them to (default: the one whose redrive policy names this).
        #[arg(long)]
        to: Option<String>,
        /// Every message.
        #[arg(long, conflicts_with = "message_ids")]
        all: bool,
        message_ids: Vec<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let sqs = aws_sdk_sqs::Client::new(&sdk_config().await);
    let Command::Dlq(command) = cli.command;
    match command {
        Dlq::List { queue_url } => {
            let letters = DeadLetterQueue::new(sqs, queue_url).list().await?;
            println!(
                "{:<40}  {:<40}  {:>8}  {:>10}",
                "message", "order", "receives", "age (s)"
            );
            for letter in &letters {
                println!(
                    "{:<40}  {:<40}  {:>8}  {:>10}",
                    letter.message_id,
                    letter.order_id.as_deref().unwrap_or("-"),
                    letter.receive_count.map_or("-".into(), |c| c.to_string()),
                    letter.age.map_or("-".into(), |a| a.as_secs().to_string()),
                );
            }
            println!("{} dead letters", letters.len());
        }
        Dlq::Show {
            queue_url,
            message_id,
        } => {
            let letters = DeadLetterQueue::new(sqs, queue_url).list().await?;
            let Some(letter) = letters.iter().find(|l| l.message_id == message_id) else {
                anyhow::bail!("no message {message_id} in the queue");
            };
            println!("message   {}", letter.message_id);
            println!("order     {}", letter.order_id.as_deref().unwrap_or("-"));
            println!(
                "receives  {}",
                letter.receive_count.map_or("-".into(), |c| c.to_string())
            );
            for (name, value) in &letter.attributes {
                println!(
                    "attribute {name} = {}",
                    value.string_value().unwrap_or("(binary)")
                );
            }
            println!("{}", letter.body);
        }
        Dlq::Redrive {
            queue_url,
            to,
            all,
            message_ids,
        } => {
            if !all && message_ids.is_empty() {
                anyhow::bail!("say which messages to redrive, or --all");
            }
            let queue = DeadLetterQueue::new(sqs, queue_url);
            let source = match to {
                Some(url) => url,
                None => queue.source_queue().await?,
            };
            let done = queue.redrive(&message_ids, &source).await?;
            for id in &done.moved {
                println!("{id}  sent back to {source}");
            }
            for id in &done.not_found {
                eprintln!("{id}  not in the queue");
            }
            println!("{} redriven", done.moved.len());
            if !done.not_found.is_empty() {
                std::process::exit(1);
            }
        }
    }
    Ok(())
}
