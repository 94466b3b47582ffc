//! The stand-in AWS provider plugin (see `orders_engine::provider`). The engine starts it,
//! reads the port it listens on from its first line of output, and speaks gRPC to it.

use orders_engine::provider::Provider;
use pulumi_gestalt_proto::pulumi::pulumirpc::resource_provider_server::ResourceProviderServer;
use std::io::Write;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{port}")?;
    stdout.flush()?;
    tonic::transport::Server::builder()
        .add_service(ResourceProviderServer::new(Provider::from_env()))
        .serve_with_incoming(TcpListenerStream::new(listener))
        .await?;
    Ok(())
}
