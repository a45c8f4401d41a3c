using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Results;
using Serilog.Core;
using Spectre.Console;

namespace QuantBuild.Cli.Tests;

/// <summary>The tool behaves as .NET tools do: help under its real name with exit codes, typo hints, verbosity, a log file, 80 columns.</summary>
public sealed class CliAppTests
{
    [Fact]
    public void Help_says_dotnet_quantbuild_and_lists_the_exit_codes()
    {
        var (code, stdout, _) = CliRunner.Run("--help");

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("dotnet quantbuild [command] [options]", stdout);
        Assert.DoesNotContain("QuantBuild.Cli", stdout);
        Assert.Contains("Exit codes:", stdout);
        Assert.Contains("3  a target failed its accuracy gate", stdout);
        Assert.Contains("-v, --verbosity <level>", stdout);
    }

    [Fact]
    public void A_mistyped_verb_is_a_usage_error_with_a_suggestion()
    {
        var (code, _, stderr) = CliRunner.Run("rnu");

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("Did you mean 'run'?", stderr);
        Assert.Contains("dotnet quantbuild --help", stderr);
    }

    [Fact]
    public void An_unknown_verbosity_is_a_usage_error()
    {
        var (code, _, stderr) = CliRunner.Run("targets", "-v", "loud");

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("'loud' is not a verbosity", stderr);
    }

    [Fact]
    public void Several_config_errors_print_one_canonical_line_each_and_a_summary_that_is_not_a_diagnostic()
    {
        using var ws = new SampleWorkspace("  x64:\n    device: cpu-x64-vnii\n    weights: {bits: 3}\n");

        var (code, _, stderr) = CliRunner.Run("targets", "-c", ws.ConfigPath);

        Assert.Equal(ExitCodes.Error, code);
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith(ws.ConfigPath + "(", stderr); // no indentation: IDEs and MSBuild read the path from column 1
        Assert.Contains(lines, l => l.StartsWith(ws.ConfigPath, StringComparison.Ordinal) && l.Contains("error QB1008"));
        Assert.Contains(lines, l => l.StartsWith(ws.ConfigPath, StringComparison.Ordinal) && l.Contains("error QB1011"));
        Assert.Equal("2 configuration errors in quantize.yaml; fix each one listed above.", lines[2]);
    }

    [Theory]
    [InlineData(Verbosity.Quiet, false, false)]
    [InlineData(Verbosity.Normal, false, false)]
    [InlineData(Verbosity.Detailed, true, false)]
    [InlineData(Verbosity.Diagnostic, true, true)]
    public void Verbosity_decides_whether_debug_and_verbose_lines_reach_stderr(Verbosity verbosity, bool debug, bool verbose)
    {
        var stderr = new StringWriter();
        var context = new CliContext(new StringWriter(), stderr, interactive: false) { Verbosity = verbosity };

        using (Logger log = GlobalOptions.Logger(context))
        {
            log.Debug("x64 nupes: a plugin's debug line");
            log.Verbose("a verbose line");
            log.Warning("a warning line");
        }

        Assert.Equal(debug, stderr.ToString().Contains("a plugin's debug line"));
        Assert.Equal(verbose, stderr.ToString().Contains("a verbose line"));
        Assert.Contains("a warning line", stderr.ToString());
    }

    [Fact]
    public void Quiet_run_prints_no_progress_or_information_while_the_log_file_keeps_them()
    {
        using var ws = new SampleWorkspace("  x64:\n    device: cpu-x64-vnni\n");
        string log = Path.Combine(ws.Root, "run.log");

        var (code, stdout, stderr) = CliRunner.Run("run", "-c", ws.ConfigPath, "--json", "--no-cache", "-v", "q", "--log", log);

        Assert.True(code == ExitCodes.Ok, stderr);
        Assert.Contains("\"targets\"", stdout);
        Assert.DoesNotContain("Loaded", stderr);
        Assert.DoesNotContain("calibrate", stderr);
        string file = File.ReadAllText(log);
        Assert.Contains("[INF] Loaded", file);
    }

    [Fact]
    public void The_summary_table_fits_80_columns_without_breaking_a_word()
    {
        TargetResult Target(string name, string device, bool cached) => new()
        {
            Name = name, Device = device, Status = TargetStatus.Passed, Cached = cached, Metric = "top1", Unit = "%",
            Fp32Value = 91.9, QuantizedValue = 91.95, Agreement = 99.95, Fp32Bytes = 890_000, QuantizedBytes = 245_964,
            Stages = [new StageTiming("calibrate", 3.21), new StageTiming("evaluate", 9.1)], OutputPath = $"quantized/model.{name}.onnx",
        };
        var run = new RunResult
        {
            ConfigPath = "quantize.yaml", ModelPath = "model.onnx", ModelSha256 = "0", ToolVersion = "0.1.0", OutputDirectory = "quantized",
            Targets = [Target("x64", "cpu-x64-vnni", false), Target("x64-avx2", "cpu-x64-avx2", true), Target("arm64-13chars", "cpu-arm64", false)],
            Stages = [],
        };
        var text = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(text), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 80;

        QuantBuild.Cli.Commands.RunCommand.Summarise(console, run);

        string[] lines = text.ToString().Split('\n');
        Assert.All(lines, l => Assert.True(l.TrimEnd().Length <= 80, $"{l.TrimEnd().Length} columns: {l}"));
        string table = string.Join('\n', lines.Take(5));
        foreach (string whole in new[] { "x64-avx2", "arm64-13chars", "cached", "passed", "91.90 %", "91.95 %", "99.95 %", "240.2 KB 28%", "12.3s" })
        {
            Assert.Contains(whole, table);
        }
    }
}
