using QuantBuild.Abstractions.Devices;
using QuantBuild.Abstractions.Passes;

namespace Fixture.FaultyPlugin;

/// <summary>Takes typed options with a range, and supports only arm64 profiles: for option and device errors.</summary>
public sealed class OnlyArmPass : QuantizationPass<OnlyArmOptions>
{
    public override string Name => "fixture-arm-only";

    public override bool SupportsDevice(DeviceProfile device) => device.Name.Contains("arm64", StringComparison.Ordinal);

    public override void Run(IPassContext context, OnlyArmOptions options)
    {
    }
}
