using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using QuantBuild.Runtime;
using Xunit.Abstractions;

namespace QuantBuild.Cli.Tests.Fuzz;

/// <summary>
/// Fuzzed whole runs (issue 15): each case is a real `quantbuild run` process over a small valid project with one to
/// three hostile edits (<see cref="RunCase"/>). Out of process, so a stack overflow or an abort shows as what it is.
/// Every run must end within 60 s with exit 0, 1, 2 or 3 and no QB0001; a failure must carry a QB code; exit 0 means
/// every target shipped a model that ONNX Runtime loads and whose manifest holds its SHA-256; nothing outside the
/// project changes; and a model already in the output folder is either left as it was or replaced by a valid one
/// with its manifest. CI runs a few cases; QUANTBUILD_FUZZ_RUNS runs the campaign (docs/reliability.md).
/// </summary>
public sealed class RunFuzzTests(ITestOutputHelper output)
{
    private static readonly int Cases = int.TryParse(Environment.GetEnvironmentVariable("QUANTBUILD_FUZZ_RUNS"), out int n) && n > 0 ? n : 6;
    private static readonly int First = int.TryParse(Environment.GetEnvironmentVariable("QUANTBUILD_FUZZ_RUNS_FROM"), out int f) && f >= 0 ? f : 0;
    private static readonly TimeSpan PerRun = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Fuzzed_runs_never_crash_hang_escape_or_ship_a_wrong_model()
    {
        using var project = new FuzzProject();
        // The seed itself must pass, or every case below would only ever test error paths.
        (int seedExit, string seedOut, string seedErr, _) = await RunCli(project.Seed);
        Assert.True(seedExit == 0, $"the unmutated project must pass: exit {seedExit}\n{seedErr}");
        Assert.Contains("\"passed\"", seedOut, StringComparison.Ordinal);

        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        var failures = new List<string>();
        var clock = Stopwatch.StartNew();
        for (int i = First; i < First + Cases; i++)
        {
            var c = new RunCase(i);
            string dir = project.NewCase(c);
            Dictionary<string, string> outsideBefore = project.OutsideHashes();
            Dictionary<string, string> outputBefore = Hashes(Path.Combine(dir, "out"));

            (int exit, string stdout, string stderr, bool hung) = await RunCli(dir);
            string outcome = hung ? "hang" : exit switch
            {
                0 => "exit 0",
                _ => FirstCode(stderr + stdout) ?? $"exit {exit}",
            };
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;

            var problems = new List<string>();
            if (hung)
            {
                problems.Add($"still running after {PerRun.TotalSeconds} s");
            }
            else if (exit is < 0 or > 3)
            {
                problems.Add($"exit code {exit} (a crash)");
            }

            string all = stdout + stderr;
            foreach (string sign in new[] { "QB0001", "Unhandled exception", "Stack overflow", "   at QuantBuild." })
            {
                if (all.Contains(sign, StringComparison.Ordinal))
                {
                    problems.Add($"printed '{sign}'");
                }
            }

            if (!hung && exit != 0 && FirstCode(all) is null)
            {
                problems.Add("failed without a QB code");
            }

            if (!hung && exit == 0)
            {
                problems.AddRange(ShippedModelProblems(stdout));
            }

            problems.AddRange(Changed(outsideBefore, project.OutsideHashes()).Select(p => $"changed outside the project: {p}"));
            if (!hung)
            {
                problems.AddRange(LostOutputs(dir, outputBefore, exit == 0 ? stdout : null));
            }

            if (problems.Count > 0)
            {
                failures.Add($"case {i} [{string.Join("; ", c.Edits)}]: {string.Join("; ", problems)}\n{Tail(stderr)}");
            }
            else
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        output.WriteLine($"{Cases} runs (cases {First}..{First + Cases - 1}) in {clock.Elapsed.TotalSeconds:0} s: " +
            string.Join(", ", outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value}")));
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    /// <summary>Exit 0 promises every target shipped: the file is there, ONNX Runtime loads it, its manifest holds its hash.</summary>
    private static IEnumerable<string> ShippedModelProblems(string stdout)
    {
        JsonElement run;
        try
        {
            run = JsonDocument.Parse(stdout).RootElement;
        }
        catch (JsonException e)
        {
            return [$"exit 0 without a JSON summary: {e.Message}"];
        }

        var problems = new List<string>();
        foreach (JsonElement target in run.GetProperty("targets").EnumerateArray())
        {
            string name = target.GetProperty("name").GetString()!;
            if (target.GetProperty("status").GetString() != "passed")
            {
                problems.Add($"exit 0 with target '{name}' {target.GetProperty("status").GetString()}");
                continue;
            }

            string? model = target.GetProperty("outputPath").GetString();
            string? manifest = target.GetProperty("manifestPath").GetString();
            if (model is null || !File.Exists(model) || manifest is null || !File.Exists(manifest))
            {
                problems.Add($"target '{name}' passed but its model or manifest is missing");
                continue;
            }

            problems.AddRange(ModelProblems(model, manifest).Select(p => $"target '{name}': {p}"));
        }

        return problems;
    }

    private static IEnumerable<string> ModelProblems(string model, string manifest)
    {
        string? recorded = JsonDocument.Parse(File.ReadAllText(manifest)).RootElement.GetProperty("model").GetProperty("sha256").GetString();
        if (recorded != Sha(model))
        {
            yield return $"{Path.GetFileName(manifest)} records sha256 {recorded}, the model beside it is {Sha(model)}";
        }

        string? loadError = null;
        try
        {
            using var session = new InferenceSession(model);
        }
        catch (OnnxRuntimeException e)
        {
            loadError = e.Message;
        }

        if (loadError is not null)
        {
            yield return $"ONNX Runtime cannot load {Path.GetFileName(model)}: {loadError}";
        }
    }

    /// <summary>
    /// A model that was in the output folder before the run is either untouched or replaced by a model this run
    /// shipped (valid, with its manifest): a failed run never leaves a half-written or mismatched one behind.
    /// </summary>
    private static IEnumerable<string> LostOutputs(string dir, Dictionary<string, string> before, string? stdout)
    {
        string outDir = Path.Combine(dir, "out");
        foreach ((string file, string sha) in before.Where(b => b.Key.EndsWith(".onnx", StringComparison.Ordinal)))
        {
            string path = Path.Combine(outDir, file);
            if (!File.Exists(path))
            {
                // A run that did not ship this file may not delete it either.
                if (new FileInfo(path).LinkTarget is null && !Directory.Exists(path))
                {
                    yield return $"out/{file} was deleted";
                }

                continue;
            }

            if (Sha(path) == sha)
            {
                continue;
            }

            string manifest = QuantBuild.Engine.Pipeline.ManifestWriter.PathFor(path);
            if (!File.Exists(manifest))
            {
                yield return $"out/{file} changed and has no manifest";
                continue;
            }

            foreach (string problem in ModelProblems(path, manifest))
            {
                yield return $"out/{file} changed: {problem}";
            }
        }
    }

    private static Dictionary<string, string> Hashes(string folder)
    {
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!Directory.Exists(folder))
        {
            return hashes;
        }

        foreach (string file in Directory.EnumerateFiles(folder))
        {
            if (new FileInfo(file).LinkTarget is null)
            {
                hashes[Path.GetFileName(file)] = Sha(file);
            }
        }

        return hashes;
    }

    private static IEnumerable<string> Changed(Dictionary<string, string> before, Dictionary<string, string> after) =>
        before.Where(b => after.GetValueOrDefault(b.Key) != b.Value).Select(b => b.Key)
            .Concat(after.Keys.Where(k => !before.ContainsKey(k)).Select(k => k + " (new)"));

    internal static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private static string? FirstCode(string text)
    {
        System.Text.RegularExpressions.Match match = System.Text.RegularExpressions.Regex.Match(text, @"\b(?:error|warning) (QB\d{4})\b|""errorCode"": ""(QB\d{4})""");
        return match.Success ? (match.Groups[1].Success ? match.Groups[1].Value : match.Groups[2].Value) : null;
    }

    private static string Tail(string text) => text.Length <= 1500 ? text : "..." + text[^1500..];

    private static async Task<(int Exit, string Out, string Error, bool Hung)> RunCli(string dir)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = dir,
        };
        foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "QuantBuild.Cli.dll"), "run", "-c", Path.Combine(dir, "quantize.yaml"), "--json", "--no-cache" })
        {
            start.ArgumentList.Add(arg);
        }

        using Process cli = Process.Start(start)!;
        Task<string> stdout = cli.StandardOutput.ReadToEndAsync();
        Task<string> stderr = cli.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(PerRun);
        bool hung = false;
        try
        {
            await cli.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            hung = true;
            cli.Kill(entireProcessTree: true);
            await cli.WaitForExitAsync();
        }

        return (hung ? -1 : cli.ExitCode, await stdout, await stderr, hung);
    }
}
