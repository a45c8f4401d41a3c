using System.Diagnostics;
using System.Text.RegularExpressions;
using Azure.Storage.Blobs;

namespace QuantBuild.Tests.Shared;

/// <summary>
/// A real blob service for the shared-cache tests: the storage account in $QUANTBUILD_TEST_CACHE_CONNECTION when it is
/// set, else Azurite (pinned by eng/azurite.sh, installed on first use) started in memory on a free port and killed on
/// dispose. It never skips: when Azurite cannot be installed or started, the test fails with the reason.
/// Each <see cref="NewContainer"/> is unique and deleted on dispose, so tests (and CI runs on one account) never meet.
/// </summary>
public sealed partial class BlobServer : IDisposable
{
    public const string RealAccountVariable = "QUANTBUILD_TEST_CACHE_CONNECTION";

    // Azurite's well-known development account (published in its documentation; not a secret).
    private const string DevKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly Process? _azurite;
    private readonly List<string> _containers = new();

    /// <summary>Starts the server (or takes the real account); an xunit class fixture.</summary>
    public BlobServer()
    {
        (ConnectionString, _azurite) = Start();
    }

    /// <summary>The connection string to put in the connection variable.</summary>
    public string ConnectionString { get; }

    /// <summary>True when this is Azurite (which <see cref="Stop"/> can take down), false for a real account.</summary>
    public bool IsEmulator => _azurite is not null;

    /// <summary>A connection string to a port nothing listens on: a remote that is down.</summary>
    public static string Unreachable => $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DevKey};BlobEndpoint=http://127.0.0.1:{ClosedPort()}/devstoreaccount1;";

    private static (string ConnectionString, Process? Azurite) Start()
    {
        if (Environment.GetEnvironmentVariable(RealAccountVariable) is { Length: > 0 } real)
        {
            return (real, null);
        }

        string main = Run("bash", Path.Combine(RepositoryRoot.Path, "eng", "azurite.sh"), "install").Trim().Split('\n')[^1].Trim();
        if (!File.Exists(main))
        {
            throw new InvalidOperationException($"eng/azurite.sh install did not produce Azurite's blob server (got '{main}').");
        }

        var start = new ProcessStartInfo("node")
        {
            ArgumentList = { main, "--blobHost", "127.0.0.1", "--blobPort", "0", "--inMemoryPersistence", "--extentMemoryLimit", "256", "--skipApiVersionCheck", "--disableTelemetry", "--silent" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process = Process.Start(start) ?? throw new InvalidOperationException("node could not be started for Azurite (is Node.js installed?).");
        var output = new System.Text.StringBuilder();
        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (Listening().Match(e.Data) is { Success: true } m)
            {
                listening.TrySetResult(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!listening.Task.Wait(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"Azurite did not start listening within 60 s. Its output:\n{output}");
        }

        int port = listening.Task.Result;
        return ($"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DevKey};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;", process);
    }

    /// <summary>A fresh container name on this server.</summary>
    public string NewContainer()
    {
        string name = "qbtest-" + Guid.NewGuid().ToString("N")[..20];
        lock (_containers)
        {
            _containers.Add(name);
        }

        return name;
    }

    /// <summary>A client for <paramref name="container"/> (created if missing).</summary>
    public BlobContainerClient Container(string container)
    {
        var client = new BlobServiceClient(ConnectionString).GetBlobContainerClient(container);
        client.CreateIfNotExists();
        return client;
    }

    /// <summary>Takes Azurite down (the process is killed, as a crashed server would be).</summary>
    public void Stop()
    {
        if (_azurite is { HasExited: false })
        {
            _azurite.Kill(entireProcessTree: true);
            _azurite.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        if (_azurite is null)
        {
            foreach (string name in _containers)
            {
                try
                {
                    new BlobServiceClient(ConnectionString).GetBlobContainerClient(name).DeleteIfExists();
                }
                catch (Azure.RequestFailedException)
                {
                    // Left for the account's lifecycle rule; the names are unique.
                }
            }
        }

        Stop();
        _azurite?.Dispose();
    }

    private static string Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{file} could not be started.");
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)) || process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed (exit {(process.HasExited ? process.ExitCode : -1)}): {stderr.Result}");
        }

        return stdout;
    }

    private static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"successfully listens on https?://[^:]+:(\d+)")]
    private static partial Regex Listening();
}
