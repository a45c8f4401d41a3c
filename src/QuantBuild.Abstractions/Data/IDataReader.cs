namespace QuantBuild.Abstractions.Data;

/// <summary>
/// A reader for data QuantBuild does not read itself (images in a folder, audio, a database export), used from
/// quantize.yaml as <c>data: { reader: &lt;plugin id&gt;/&lt;name&gt;, path: ..., options: {...} }</c> under
/// <c>calibration</c> or <c>evaluation</c>. Found like passes: every public, non-abstract type in a plugin assembly
/// that implements this and has a public parameterless constructor. Derive from <see cref="DataReader{TOptions}"/>.
/// </summary>
public interface IDataReader
{
    /// <summary>The name after the plugin id, lower-case, for example <c>images</c>.</summary>
    string Name { get; }

    /// <summary>The type <c>options</c> binds to: public settable properties, snake_case in the yaml.</summary>
    Type OptionsType { get; }

    /// <summary>
    /// Opens the data at <see cref="DataReaderRequest.Path"/> as a source named after the model's inputs. The host
    /// disposes it. Read lazily: <see cref="IDataSource.Read"/> is called batch by batch.
    /// </summary>
    IDataSource Open(DataReaderRequest request, object options);
}
