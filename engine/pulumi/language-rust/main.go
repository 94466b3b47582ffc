// A stand-in for pulumi-language-rust 0.0.12, the language host of pulumi-gestalt, which
// cannot be built here. It behaves as that release does, so that the real engine runs our
// program the way it will on a deployer's machine:
//   - it serves the LanguageRuntime service and prints its port, health-checking the engine
//     whose address is its first argument;
//   - Run: in the program directory (where Pulumi.yaml is), the `binary` runtime option
//     (relative to that directory) if set, else a bare `cargo run`; its output is shown only
//     when it fails;
//   - the environment is this process's plus PULUMI_MONITOR, _ENGINE, _PROJECT, _STACK,
//     _ROOT_DIRECTORY, _PWD, _DRY_RUN, _QUERY_MODE, _PARALLEL, _TRACING, _CONFIG,
//     _CONFIG_SECRET_KEYS and _ORGANIZATION, each only when not empty, and RUST_BACKTRACE=full;
//   - InstallDependencies: `cargo build` in the program directory, unless `binary` is set;
//   - no required packages: the engine loads providers as the program registers resources.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// The release this stand-in behaves as.
const version = "0.0.12"

func main() {
	var tracing string
	flag.StringVar(&tracing, "tracing", "", "tracing endpoint (accepted, not used)")
	flag.Parse()

	engine := ""
	var cancel chan bool
	if args := flag.Args(); len(args) > 0 {
		engine = args[0]
		var err error
		if cancel, err = watchEngine(engine); err != nil {
			cmdutil.Exit(fmt.Errorf("cannot health-check the engine: %w", err))
		}
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(server *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(server, &host{engine: engine, tracing: tracing})
			return nil
		},
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("cannot serve the language host: %w", err))
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("the language host stopped: %w", err))
	}
}

// watchEngine stops the host when the engine goes away or on an interrupt.
func watchEngine(engine string) (chan bool, error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	cancel := make(chan bool)
	go func() {
		<-ctx.Done()
		stop()
		close(cancel)
	}()
	return cancel, rpcutil.Healthcheck(ctx, engine, 5*time.Minute, stop)
}

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engine  string
	tracing string
}

// binaryOption is Pulumi.yaml's `runtime.options.binary`, if set.
func binaryOption(info *pulumirpc.ProgramInfo) (string, error) {
	value, ok := info.GetOptions().AsMap()["binary"]
	if !ok {
		return "", nil
	}
	binary, ok := value.(string)
	if !ok {
		return "", errors.New("binary option must be a string")
	}
	return binary, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *host) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *host) GetProgramDependencies(
	context.Context, *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

func (h *host) Run(_ context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	binary, err := binaryOption(req.GetInfo())
	if err != nil {
		return nil, fmt.Errorf("failed to parse options: %w", err)
	}
	env, err := h.environment(req)
	if err != nil {
		return nil, err
	}

	var cmd *exec.Cmd
	if binary != "" {
		if !filepath.IsAbs(binary) {
			binary = filepath.Join(req.GetInfo().GetProgramDirectory(), binary)
		}
		cmd = exec.Command(binary)
	} else {
		cmd = exec.Command("cargo", "run")
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.Dir = req.GetInfo().GetProgramDirectory()
	cmd.Env = env
	if err := run(cmd); err != nil {
		os.Stdout.Write(stdout.Bytes())
		os.Stderr.Write(stderr.Bytes())
		return nil, fmt.Errorf("Failed to run command: %w", err)
	}
	return &pulumirpc.RunResponse{}, nil
}

func (h *host) environment(req *pulumirpc.RunRequest) ([]string, error) {
	config := ""
	if req.GetConfig() != nil {
		encoded, err := json.Marshal(req.GetConfig())
		if err != nil {
			return nil, fmt.Errorf("failed to serialize configuration: %w", err)
		}
		config = string(encoded)
	}
	secretKeys := "[]"
	if req.GetConfigSecretKeys() != nil {
		encoded, err := json.Marshal(req.GetConfigSecretKeys())
		if err != nil {
			return nil, fmt.Errorf("failed to serialize configuration secret keys: %w", err)
		}
		secretKeys = string(encoded)
	}

	env := os.Environ()
	add := func(key, value string) {
		if value != "" {
			env = append(env, "PULUMI_"+strings.ToUpper(key)+"="+value)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engine)
	add("project", req.GetProject())
	add("stack", req.GetStack())
	add("root_directory", req.GetInfo().GetRootDirectory())
	add("pwd", req.GetPwd())
	add("dry_run", fmt.Sprintf("%v", req.GetDryRun()))
	add("query_mode", fmt.Sprint(req.GetQueryMode()))
	add("parallel", fmt.Sprint(req.GetParallel()))
	add("tracing", h.tracing)
	add("config", config)
	add("config_secret_keys", secretKeys)
	add("organization", req.GetOrganization())
	return append(env, "RUST_BACKTRACE=full"), nil
}

func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest,
	server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	binary, err := binaryOption(req.GetInfo())
	if err != nil {
		return fmt.Errorf("failed to parse options: %w", err)
	}
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return fmt.Errorf("failed to create install dependency streams: %w", err)
	}
	defer closer.Close()
	if binary != "" {
		return nil
	}
	cmd := exec.Command("cargo", "build")
	cmd.Dir = req.GetInfo().GetProgramDirectory()
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	if err := run(cmd); err != nil {
		return fmt.Errorf("cargo build failed: %w", err)
	}
	return nil
}

// run runs cmd and says how it ended in words a user can act on.
func run(cmd *exec.Cmd) error {
	line := strings.Join(cmd.Args, " ")
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &exit):
		return fmt.Errorf("'%v' exited with non-zero exit code: %d", line, exit.ExitCode())
	default:
		return fmt.Errorf("Problem executing '%v': %w", line, err)
	}
}
