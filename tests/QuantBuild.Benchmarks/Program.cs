using BenchmarkDotNet.Running;

namespace QuantBuild.Benchmarks;

/// <summary>
/// Entry point: <c>dotnet run -c Release --project tests/QuantBuild.Benchmarks -- --filter '*'</c> for the
/// BenchmarkDotNet suites, <c>-- memory [counts...]</c> for calibration memory against the sample count,
/// <c>-- calibration-profile [samples] [repeats]</c> for where a calibration's time goes, piece by piece, and
/// <c>-- calibration-side-by-side [samples] [rounds]</c> for the calibration ratios taken in alternating rounds.
/// </summary>
public static class Program
{
    public static int Main(string[] args) => args switch
    {
        ["memory", .. var counts] => CalibrationMemory.Run(counts),
        ["memory-one", .. var rest] => CalibrationMemory.Child(rest),
        ["calibration-profile", .. var rest] => CalibrationProfile.Run(rest),
        ["calibration-side-by-side", .. var rest] => CalibrationSideBySide.Run(rest),
        _ => Run(args),
    };

    private static int Run(string[] args)
    {
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
