using System.Net;
using InfluxLike.Query;
using InfluxLike.Server.Hosting;
using InfluxLike.Server.Http;
using InfluxLike.Server.Metrics;
using InfluxLike.Server.Replication;
using InfluxLike.Server.Security;
using InfluxLike.Server.Tasks;
using InfluxLike.Storage.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Prometheus;
using InfluxLike.Server.Configuration;
using InfluxLike.Server.Dashboards;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Json;

namespace InfluxLike.Server;

/// <summary>Builds and runs the HTTP server: composes storage, query and the endpoints.</summary>
public static class InfluxLikeServer
{
    /// <summary>
    /// Unsent response bytes per connection before a writer waits for the client: 512 KiB (the HTTP layer and the socket
    /// transport each hold at most this much), so memory for slow readers stays bounded per connection while typical
    /// answers never wait.
    /// </summary>
    public const int ResponseBufferBytes = 512 * 1024;

    /// <summary>Builds a server that is ready to start. The caller owns and disposes it.</summary>
    /// <exception cref="ServerConfigurationException">An option is not valid.</exception>
    public static WebApplication Build(ServerOptions options)
    {
        if (!BindAddress.TryParse(options.HttpBindAddress, out IPEndPoint? endPoint, out string? bindError))
        {
            throw new ServerConfigurationException(bindError);
        }

        ApplyGcSettings(options);
        var levelSwitch = new LoggingLevelSwitch();
        Serilog.ILogger logger = CreateLogger(options, levelSwitch);
        string dataDir = Path.GetFullPath(options.DataDir);
        Directory.CreateDirectory(dataDir);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });

        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(endPoint);
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = null; // the write and query handlers enforce their own limits, after gzip
            // Response bytes a connection may hold unsent before a query's writer waits (Kestrel's default is 64 KiB):
            // a CSV answer of a few hundred KB is then formatted without blocking on the client's reading pace.
            k.Limits.MaxResponseBufferSize = ResponseBufferBytes;
            // Slow senders (slowloris): headers must arrive within 10 s (influxd's http-read-header-timeout; Kestrel's
            // default is 30 s) and a body at 240 bytes/s or more after a 5 s grace period (Kestrel's default, stated here).
            k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            k.Limits.MinRequestBodyDataRate = new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(240, TimeSpan.FromSeconds(5));
        });
        builder.WebHost.UseSockets(o => o.MaxWriteBufferSize = ResponseBufferBytes); // the socket side's share of the same bound
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));

        builder.Services.AddSerilog(logger, dispose: true);
        builder.Services.AddSingleton(logger);
        builder.Services.AddOpenApi();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ServerJsonContext.Default));
        builder.Services.AddSingleton(options);
        var live = new LiveOptions(options);
        builder.Services.AddSingleton(live);
        builder.Services.AddSingleton(sp => new ConfigReloader(live, logger, levelSwitch));
        builder.Services.AddSingleton<Readiness>();
        builder.Services.AddSingleton<QueryGate>();
        builder.Services.AddSingleton(_ => new ScriptCache()); // built by the container, so disposed with it
        var engineOptions = new EngineOptions
        {
            Shard = new Storage.Shards.ShardOptions
            {
                CacheMaxBytes = options.CacheMaxMemorySize, SnapshotThresholdBytes = options.CacheSnapshotMemorySize,
                Wal = new Storage.Wal.WalOptions { SegmentSizeBytes = options.WalSegmentSize },
            },
            MaxLineBytes = options.MaxLineBytes,
            MaxTagsPerPoint = options.MaxTagsPerPoint,
            MaxFieldsPerPoint = options.MaxFieldsPerPoint,
            MaxConcurrentCompactions = options.MaxConcurrentCompactions,
            CompactThroughputBytesPerSecond = options.CompactThroughput,
            MinFreeDiskBytes = options.StorageMinFreeDisk,
            Warn = repair => logger.Warning("Storage repaired on open: {Repair}", repair),
        };
        var engine = StorageEngine.Open(Path.Combine(dataDir, "engine"), options.ConfigureEngine?.Invoke(engineOptions) ?? engineOptions);
        builder.Services.AddSingleton(engine);
        var auth = AuthStore.Open(dataDir);
        builder.Services.AddSingleton(auth);
        builder.Services.AddSingleton<Authenticator>();
        builder.Services.AddHostedService<EngineMaintenance>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(TaskStore.Open(dataDir));
        builder.Services.AddSingleton<TaskRunner>();
        builder.Services.AddSingleton(DashboardStore.Open(dataDir));
        builder.Services.AddHostedService<TaskService>();
        var replications = new ReplicationService(ReplicationStore.Open(dataDir), dataDir, logger, TimeProvider.System);
        builder.Services.AddSingleton(replications);
        builder.Services.AddHostedService(_ => replications);
        OnboardFromOptions(options, engine, auth, logger);

        // No exemplars: each count and observation recorded the request's trace id (formatted, from a pool), a few
        // microseconds per query, for links to a tracing system we do not export to. Set before any metric exists.
        Prometheus.Metrics.DefaultFactory.ExemplarBehavior = Prometheus.ExemplarBehavior.NoExemplars();
        RuntimeMetrics.Register();
        StorageMeterBridge.Start();
        EngineMetrics.Register(engine);
        WebApplication app = builder.Build();
        app.Use((ctx, next) =>
        {
            // The id that request logs carry, for users to quote when they report a problem.
            ctx.Response.Headers["Request-Id"] = ctx.TraceIdentifier;
            return next(ctx);
        });
        app.UseSerilogRequestLogging(o =>
        {
            o.Logger = logger; // otherwise the static Log.Logger, which we never set
            o.MessageTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms (request {RequestId})";
            o.EnrichDiagnosticContext = (diagnostics, ctx) => diagnostics.Set("RequestId", ctx.TraceIdentifier);
            // Writes arrive thousands of times a second: routine requests log at Debug.
            o.GetLevel = (ctx, _, ex) => ex is not null || ctx.Response.StatusCode >= 500
                ? LogEventLevel.Error
                : ctx.Response.StatusCode >= 400 ? LogEventLevel.Information : LogEventLevel.Debug;
        });
        app.UseHttpMetrics(o => o.ConfigureMeasurements(m => m.ExemplarPredicate = _ => false)); // no exemplars (above)

        HealthEndpoints.Map(app);
        DataEndpoints.Map(app);
        ManagementEndpoints.Map(app);
        StorageEndpoints.Map(app);
        TaskEndpoints.Map(app);
        BackupEndpoints.Map(app);
        ReplicationEndpoints.Map(app);
        DashboardEndpoints.Map(app);
        ScriptEndpoints.Map(app);
        UiEndpoints.Map(app);
        V1Endpoints.Map(app);
        app.UseWhen(ctx => ctx.Request.Path.StartsWithSegments("/metrics") && live.Current.MetricsNeedAuth && live.Current.AuthEnabled, branch => branch.Use(async (ctx, next) =>
        {
            AuthorizationInfo? a = ctx.RequestServices.GetRequiredService<Authenticator>().Authenticate(ctx.Request, allowV1Credentials: false);
            if (a is null)
            {
                await Api.Unauthorized().ExecuteAsync(ctx).ConfigureAwait(false);
                return;
            }

            await next(ctx).ConfigureAwait(false);
        }));
        app.MapMetrics("/metrics");
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapFallback((HttpContext ctx) => Http.Api.Json(
            new ErrorResponse("not found", $"path not found: {ctx.Request.Path}"),
            ServerJsonContext.Default.ErrorResponse,
            statusCode: StatusCodes.Status404NotFound));

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            _ = app.Services.GetRequiredService<ConfigReloader>();
            app.Services.GetRequiredService<Readiness>().MarkReady();
            logger.Information("InfluxLike {Version} listening on {Addresses}, data in {DataDir}", ServerVersion.Product, string.Join(", ", ListeningAddresses(app)), dataDir);
        });
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            app.Services.GetRequiredService<Readiness>().MarkNotReady();
            logger.Information("Shutting down");
        });
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            EngineMetrics.Unregister(engine);
            engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
        });
        return app;
    }

    /// <summary>
    /// The --init-* options: on a data folder that is not set up yet, create the organisation, bucket, user
    /// and operator token, as InfluxDB's DOCKER_INFLUXDB_INIT_* variables do; ignored once it is set up.
    /// </summary>
    private static void OnboardFromOptions(ServerOptions options, StorageEngine engine, AuthStore auth, Serilog.ILogger logger)
    {
        if (options.InitOrg is null && options.InitBucket is null && options.InitToken is null)
        {
            return;
        }

        if (auth.IsSetUp)
        {
            logger.Debug("The data folder is set up already; the --init-* options are ignored");
            return;
        }

        if (options.InitOrg is null || options.InitBucket is null)
        {
            throw new ServerConfigurationException("--init-org and --init-bucket must be given together (with --init-token to choose the operator token)");
        }

        try
        {
            OnboardingResult r = Onboarding.Run(engine, auth, options.InitUsername ?? "admin", options.InitOrg, options.InitBucket, options.InitRetention, options.InitToken);
            if (options.InitToken is null)
            {
                logger.Warning("Set up organization {Org} and bucket {Bucket}; the operator token (shown this once) is {Token}", r.Org.Name, r.Bucket.Name, r.Token);
            }
            else
            {
                logger.Information("Set up organization {Org} and bucket {Bucket} with the given operator token", r.Org.Name, r.Bucket.Name);
            }
        }
        catch (ArgumentException e)
        {
            throw new ServerConfigurationException("--init-*: " + e.Message);
        }
    }

    /// <summary>
    /// The edge profile's memory settings that the runtime takes while running: a hard heap limit (through
    /// GC.RefreshMemoryLimit, which rereads GCHeapHardLimit) and non-concurrent collections, which need no
    /// background GC thread and keep the heap from growing while one runs.
    /// </summary>
    private static void ApplyGcSettings(ServerOptions options)
    {
        if (options.GcHeapLimit > 0)
        {
            AppContext.SetData("GCHeapHardLimit", (ulong)options.GcHeapLimit);
            GC.RefreshMemoryLimit();
        }

        if (options.Profile == "edge")
        {
            System.Runtime.GCSettings.LatencyMode = System.Runtime.GCLatencyMode.Batch;
        }
    }

    /// <summary>Runs until SIGTERM, Ctrl+C or <paramref name="cancellationToken"/>; returns the exit code.</summary>
    public static async Task<int> RunAsync(ServerOptions options, CancellationToken cancellationToken = default)
    {
        await using WebApplication app = Build(options);
        await app.RunAsync(cancellationToken).ConfigureAwait(false);
        return 0;
    }

    /// <summary>The addresses the server listens on (with the real port when 0 was asked for).</summary>
    public static IReadOnlyList<string> ListeningAddresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    private static Serilog.ILogger CreateLogger(ServerOptions options, LoggingLevelSwitch level)
    {
        level.MinimumLevel = options.LogLevel.ToLowerInvariant() switch
        {
            "verbose" or "trace" => LogEventLevel.Verbose,
            "debug" => LogEventLevel.Debug,
            "information" or "info" => LogEventLevel.Information,
            "warning" or "warn" => LogEventLevel.Warning,
            "error" => LogEventLevel.Error,
            "fatal" => LogEventLevel.Fatal,
            _ => throw new ServerConfigurationException($"unknown log level \"{options.LogLevel}\" (verbose, debug, information, warning, error, fatal)"),
        };

        // Configured in code, not from configuration: Serilog.Settings.Configuration is not AOT-safe.
        var config = new LoggerConfiguration()
            .MinimumLevel.ControlledBy(level)
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Warning)
            .Enrich.FromLogContext();
        config = options.LogFormat.ToLowerInvariant() switch
        {
            "json" => config.WriteTo.Console(new JsonFormatter(renderMessage: true)),
            "text" => config.WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}{Exception}"),
            _ => throw new ServerConfigurationException($"unknown log format \"{options.LogFormat}\" (text, json)"),
        };
        return config.CreateLogger();
    }
}
