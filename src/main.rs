use std::process::ExitCode;

use clap::Parser;
use compute_studio::config::{Cli, Command, EmulatorArgs, EmulatorPace};
use compute_studio::emulator::{Emulator, EmulatorConfig, Seed, Timings};
use compute_studio::startup::Application;
use tracing_subscriber::EnvFilter;

// glibc's allocator keeps freed memory in per-thread arenas: after a resync of a large workspace
// the process stayed several times bigger than its live data (BENCHMARKS.md). mimalloc returns it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn,sqlx=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Some(Command::Emulator(args)) => run_emulator(args).await,
        Some(Command::Serve(args)) => serve(*args).await,
        Some(Command::Healthcheck { listen }) => healthcheck(listen).await,
        None => serve(cli.serve).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: compute_studio::config::ServeArgs) -> anyhow::Result<()> {
    let settings = args.validate()?;
    let app = Application::build(settings).await?;
    tracing::info!("Compute Studio is serving on http://{}", app.local_addr());
    app.run_until(shutdown_signal()).await?;
    Ok(())
}

/// Asks the local dashboard for /healthz; an unspecified listen address means loopback.
async fn healthcheck(listen: std::net::SocketAddr) -> anyhow::Result<()> {
    let mut address = listen;
    if address.ip().is_unspecified() {
        address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let response = reqwest::Client::new()
        .get(format!("http://{address}/healthz"))
        .timeout(std::time::Duration::from_secs(2))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "unhealthy: HTTP {}",
        response.status()
    );
    Ok(())
}

async fn run_emulator(args: EmulatorArgs) -> anyhow::Result<()> {
    let plan = args.fault_plan()?;
    let mut config = EmulatorConfig::demo();
    if args.pace == EmulatorPace::Fast {
        config.timings = Timings::fast();
    }
    if !args.seed {
        config.seed = Seed::Empty;
    }
    let emulator = Emulator::new(config.clone());
    for compute in
        compute_studio::emulator::bulk::generated_instances(&config, args.extra_instances)
    {
        emulator.insert_raw(compute);
    }
    if let Some(plan) = plan {
        tracing::info!(
            rate = plan.rate,
            seed = plan.seed,
            kinds = %plan.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(","),
            operations = %plan.classes.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(","),
            "injecting faults (the same --fault-seed gives the same faults)"
        );
        emulator
            .set_fault_plan(Some(plan))
            .map_err(anyhow::Error::msg)?;
    }
    let running = emulator.serve(args.listen).await?;
    tracing::info!("the Azure emulator is serving on {}", running.base_url);
    shutdown_signal().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
