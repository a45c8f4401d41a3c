using System.Diagnostics;
using System.Text;

namespace QuantBuild.MSBuild;

/// <summary>
/// Runs the quantbuild tool (<c>dotnet QuantBuild.Cli.dll ...</c>) in its own process, so ONNX Runtime's native library and
/// plugins are loaded there and never into MSBuild's long-lived nodes.
/// </summary>
internal sealed class ToolProcess
{
    private readonly string _dotnetHost;
    private readonly string _toolPath;

    public ToolProcess(string dotnetHost, string toolPath)
    {
        _dotnetHost = string.IsNullOrEmpty(dotnetHost) ? "dotnet" : dotnetHost;
        _toolPath = toolPath;
    }

    /// <summary>The exit code, stdout, and stderr split in lines; <paramref name="onErrorLine"/> sees each stderr line as it comes.</summary>
    public (int ExitCode, string Out, List<string> Error) Run(IEnumerable<string> arguments, Action<string> onErrorLine, CancellationToken cancellation)
    {
        if (!File.Exists(_toolPath))
        {
            throw new ToolException($"The quantbuild tool was not found at {_toolPath}.",
                "restore the QuantBuild.MSBuild package again, or set QuantBuildToolPath to a QuantBuild.Cli.dll");
        }

        var start = new ProcessStartInfo(_dotnetHost)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(_toolPath);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Plain progress lines, no colours: the output is parsed.
        start.Environment["NO_COLOR"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

        var errors = new List<string>();
        var stdout = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stdout)
                {
                    stdout.AppendLine(e.Data);
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (errors)
                {
                    errors.Add(e.Data);
                    onErrorLine(e.Data);
                }
            }
        };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ToolException($"'{_dotnetHost}' could not be started: {e.Message}.", "make sure the .NET SDK's dotnet is on PATH, or set QuantBuildDotnetHost");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using (cancellation.Register(() =>
               {
                   try
                   {
                       process.Kill(entireProcessTree: true);
                   }
                   catch (InvalidOperationException)
                   {
                   }
               }))
        {
            process.WaitForExit();
        }

        lock (stdout)
        {
            return (process.ExitCode, stdout.ToString(), errors);
        }
    }
}
