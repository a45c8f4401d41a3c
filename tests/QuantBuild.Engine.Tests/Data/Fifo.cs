using System.Diagnostics;

namespace QuantBuild.Engine.Tests.Data;

/// <summary>Makes a named pipe (FIFO): opening one for reading blocks until a writer appears, which is the point.</summary>
internal static class Fifo
{
    public static void Make(string path)
    {
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", path) { UseShellExecute = false })!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }
}
