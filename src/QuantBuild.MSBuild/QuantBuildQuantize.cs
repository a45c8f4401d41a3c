using System.Globalization;
using System.Text.Json;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace QuantBuild.MSBuild;

/// <summary>
/// Runs <c>quantbuild run --json</c> for the selected targets in its own process and reports in MSBuild's terms: every
/// QBnnnn line as an error or warning at its yaml file/line/column, a failed gate with both metric values, fp32 nodes
/// as QB5001 warnings, and whether each target came from the cache.
/// </summary>
public sealed class QuantBuildQuantize : QuantBuildToolTask
{
    /// <summary>The targets to run (ItemSpec = name, metadata Line).</summary>
    [Required]
    public ITaskItem[] Targets { get; set; } = [];

    /// <summary>Where models, manifests and the report go.</summary>
    [Required]
    public string OutputDirectory { get; set; } = string.Empty;

    /// <summary>The result cache folder; empty for the tool's default.</summary>
    public string CacheDirectory { get; set; } = string.Empty;

    /// <summary>Quantize again even when the cache holds the result.</summary>
    public bool Force { get; set; }

    /// <summary>
    /// False to use only the local cache even when quantize.yaml has <c>cache.remote</c>. The credential is never a
    /// property: the tool process inherits the build's environment, where CI puts the connection variable.
    /// </summary>
    public bool RemoteCache { get; set; } = true;

    /// <summary>
    /// The tool's <c>-v</c> (default <c>d</c>): its lines arrive as low-importance messages, so plugins' debug lines are
    /// in the build log at <c>-v:d</c>/<c>-v:diag</c> and nowhere else.
    /// </summary>
    public string Verbosity { get; set; } = "d";

    /// <summary>A log file for the tool (<c>--log</c>), or empty.</summary>
    public string LogFile { get; set; } = string.Empty;

    /// <summary>Files the run wrote (models, manifests, reports), for FileWrites.</summary>
    [Output]
    public ITaskItem[] WrittenFiles { get; private set; } = [];

    /// <inheritdoc />
    public override bool Execute()
    {
        if (Targets.Length == 0)
        {
            return true;
        }

        var arguments = new List<string> { "run", "--json", "-c", ConfigFile, "-o", OutputDirectory };
        foreach (ITaskItem target in Targets)
        {
            arguments.Add("-t");
            arguments.Add(target.ItemSpec);
        }

        if (!string.IsNullOrEmpty(CacheDirectory))
        {
            arguments.Add("--cache");
            arguments.Add(CacheDirectory);
        }

        if (Force)
        {
            arguments.Add("--no-cache");
        }

        if (!RemoteCache)
        {
            arguments.Add("--no-remote-cache");
        }

        arguments.AddRange(["-v", string.IsNullOrEmpty(Verbosity) ? "d" : Verbosity]);
        if (!string.IsNullOrEmpty(LogFile))
        {
            arguments.AddRange(["--log", LogFile]);
        }

        Log.LogMessage(MessageImportance.Normal, $"QuantBuild: {string.Join(", ", Targets.Select(t => t.ItemSpec))} from {ConfigFile}");
        int exitCode;
        string stdout;
        bool sawError = false;
        var logged = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            (exitCode, stdout, _) = Tool().Run(arguments, line =>
            {
                // The tool logs an error as it happens and repeats it in its final list; MSBuild should count it once.
                if (Diagnostics.IsDiagnostic(line) && !logged.Add(Diagnostics.WithoutTimestamp(line)))
                {
                    return;
                }

                if (Diagnostics.TryLog(Log, line, out bool isError))
                {
                    sawError |= isError;
                }
                else
                {
                    Log.LogMessage(MessageImportance.Low, line);
                }
            }, Cancellation);
        }
        catch (ToolException e)
        {
            Diagnostics.Error(Log, "QB5000", null, e.Message, e.Fix);
            return false;
        }

        if (Cancellation.IsCancellationRequested)
        {
            return false;
        }

        JsonElement? run = null;
        try
        {
            run = stdout.Trim().Length > 0 ? JsonDocument.Parse(stdout).RootElement : null;
        }
        catch (JsonException)
        {
        }

        if (run is { } summary)
        {
            Report(summary, sawError);
        }

        if (exitCode != 0 && !sawError && !Log.HasLoggedErrors)
        {
            Diagnostics.Error(Log, "QB5002", ConfigFile, $"quantbuild exited with code {exitCode} without a QB diagnostic.",
                $"run `dotnet quantbuild run -c {ConfigFile}` to see its full output");
        }

        return exitCode == 0 && !Log.HasLoggedErrors;
    }

    private void Report(JsonElement run, bool toolReportedErrors)
    {
        var written = new List<ITaskItem>();
        foreach (string report in new[] { "reportMarkdownPath", "reportHtmlPath" })
        {
            if (run.TryGetProperty(report, out JsonElement path) && path.ValueKind == JsonValueKind.String)
            {
                written.Add(new TaskItem(path.GetString()));
            }
        }

        foreach (JsonElement target in run.GetProperty("targets").EnumerateArray())
        {
            string name = target.GetProperty("name").GetString()!;
            string status = target.GetProperty("status").GetString()!;
            int line = Targets.FirstOrDefault(t => t.ItemSpec == name)?.GetMetadata("Line") is { Length: > 0 } l ? int.Parse(l, CultureInfo.InvariantCulture) : 0;
            foreach (string file in new[] { "outputPath", "manifestPath" })
            {
                if (target.TryGetProperty(file, out JsonElement path) && path.ValueKind == JsonValueKind.String)
                {
                    written.Add(new TaskItem(path.GetString()));
                }
            }

            string values = $"{target.GetProperty("metric")} fp32 {Number(target, "fp32Value")}, quantized {Number(target, "quantizedValue")}";
            if (status == "passed")
            {
                bool cached = target.TryGetProperty("cached", out JsonElement c) && c.GetBoolean();
                double seconds = target.GetProperty("stages").EnumerateArray().Sum(s => s.GetProperty("seconds").GetDouble());
                Log.LogMessage(MessageImportance.High,
                    $"QuantBuild: {name}: passed ({values}), {Number(target, "quantizedBytes")} bytes from {Number(target, "fp32Bytes")}, " +
                    (cached ? "cached" : $"quantized in {seconds:0.0}s"));
            }
            else if (status == "gateFailed" && !toolReportedErrors)
            {
                // The tool's QB4000 line normally carries both numbers; say them here when it did not.
                Log.LogError(null, "QB4000", null, ConfigFile, line, 0, 0, 0, $"Target '{name}' failed its accuracy gate: {values}.");
            }

            if (target.TryGetProperty("floatNodes", out JsonElement floats) && floats.GetArrayLength() > 0)
            {
                var nodes = floats.EnumerateArray().Select(n => $"{n.GetProperty("node").GetString()} ({n.GetProperty("opType").GetString()}): {n.GetProperty("reason").GetString()}").ToList();
                Log.LogWarning(null, "QB5001", null, ConfigFile, line, 0, 0, 0,
                    $"Target '{name}' keeps {nodes.Count} node(s) in fp32: {string.Join("; ", nodes.Take(10))}{(nodes.Count > 10 ? "; ..." : string.Empty)}. " +
                    "Fix: nothing, if intended (excluded or not supported by the device); otherwise see the report's float-node table.");
            }
        }

        WrittenFiles = written.ToArray();
    }

    private static string Number(JsonElement target, string property) =>
        target.TryGetProperty(property, out JsonElement value) && value.ValueKind == JsonValueKind.Number
            ? value.GetDouble().ToString("0.##", CultureInfo.InvariantCulture)
            : "-";
}
