using QuantBuild.Abstractions.Passes;

namespace Fixture.FaultyPlugin;

/// <summary>Never finishes on its own; stops only when the host cancels it after its time limit.</summary>
public sealed class HangingPass : QuantizationPass<NoPassOptions>
{
    public override string Name => "fixture-hangs";

    public override void Run(IPassContext context, NoPassOptions options)
    {
        while (!context.Cancellation.IsCancellationRequested)
        {
            Thread.Sleep(20);
        }
    }
}
