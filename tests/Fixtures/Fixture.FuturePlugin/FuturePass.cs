using QuantBuild.Abstractions.Passes;

namespace Fixture.FuturePlugin;

public sealed class FuturePass : QuantizationPass<NoPassOptions>
{
    public override string Name => "fixture-future";

    public override void Run(IPassContext context, NoPassOptions options)
    {
    }
}
