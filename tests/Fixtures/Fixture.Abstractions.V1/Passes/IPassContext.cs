using QuantBuild.Abstractions.Devices;

namespace QuantBuild.Abstractions.Passes;

public interface IPassContext
{
    string TargetName { get; }

    DeviceProfile Device { get; }
}
