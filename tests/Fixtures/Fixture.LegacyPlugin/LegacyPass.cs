using QuantBuild.Abstractions.Passes;

namespace Fixture.LegacyPlugin;

/// <summary>A pass as 1.x plugins wrote it: the device's integer grid read from the 1.x DeviceProfile shape.</summary>
public sealed class LegacyPass : QuantizationPass<NoPassOptions>
{
    public override string Name => "fixture-legacy";

    public override void Run(IPassContext context, NoPassOptions options)
    {
        _ = context.Device.ReduceRange ? 63 : 127;
    }
}
