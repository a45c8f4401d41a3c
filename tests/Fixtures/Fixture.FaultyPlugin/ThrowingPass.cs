using QuantBuild.Abstractions.Passes;

namespace Fixture.FaultyPlugin;

public sealed class ThrowingPass : QuantizationPass<NoPassOptions>
{
    public override string Name => "fixture-throws";

    public override void Run(IPassContext context, NoPassOptions options) =>
        throw new InvalidOperationException("the fixture pass fails on purpose");
}
