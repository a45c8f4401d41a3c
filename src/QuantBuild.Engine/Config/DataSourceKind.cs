namespace QuantBuild.Engine.Config;

/// <summary>The forms <c>calibration.data</c> and <c>evaluation.data</c> take.</summary>
public enum DataSourceKind
{
    /// <summary>One .npy file, for a model with one input.</summary>
    Npy,

    /// <summary>One .npz archive whose member names are the model's input names.</summary>
    Npz,

    /// <summary>A folder of ONNX test data: <c>test_data_set_N/input_K.pb</c> (or one such set).</summary>
    TensorProtoDirectory,

    /// <summary>A mapping from input name to a .npy file.</summary>
    PerInput,

    /// <summary>A plugin's data reader: <c>{ reader: id/name, path: ..., options: {...} }</c>.</summary>
    Reader,
}
