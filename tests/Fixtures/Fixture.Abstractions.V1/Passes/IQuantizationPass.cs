using QuantBuild.Abstractions.Devices;

namespace QuantBuild.Abstractions.Passes;

public interface IQuantizationPass
{
    string Name { get; }

    Type OptionsType { get; }

    IReadOnlyCollection<string> SupportedOps { get; }

    bool SupportsDevice(DeviceProfile device);

    void Run(IPassContext context, object options);
}
