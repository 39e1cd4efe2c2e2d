// Starts Swagger UI on the docs page (/docs): the document from this server's /openapi.json, whose `servers` names
// this server, so every call made from the page goes back to it. Nothing is loaded from another origin: the
// bundle and its stylesheet are this Worker's static assets, and the spec validator badge (a call to
// validator.swagger.io) is off.

/**
 * Marks, beside the path of each operation, where its token goes when it travels in the body (`x-body-token`,
 * OPS-COM's way): OpenAPI has no security scheme for it, so such an operation shows no lock and the Authorize
 * dialog cannot fill it in.
 */
function BodyTokenBadge(system) {
  const React = system.React;
  return {
    wrapComponents: {
      OperationSummaryPath:
        (Original, { specSelectors }) =>
        (props) => {
          // Read from the document itself: a collapsed operation's props do not hold it yet.
          const path = props.operationProps.get("path");
          const method = props.operationProps.get("method");
          const field = specSelectors.specJson().getIn(["paths", path, method, "x-body-token", "field"]);
          if (!field) return React.createElement(Original, props);
          return React.createElement(
            React.Fragment,
            null,
            React.createElement(Original, props),
            React.createElement(
              "span",
              { className: "body-token", title: `The API token travels in the request body, as ${field}` },
              `token in body: ${field}`,
            ),
          );
        },
    },
  };
}

window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: root.dataset.document,
    domNode: root,
    deepLinking: true,
    tryItOutEnabled: true,
    displayRequestDuration: true,
    filter: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    validatorUrl: null,
    persistAuthorization: false,
    presets: [window.SwaggerUIBundle.presets.apis],
    plugins: [BodyTokenBadge],
  });
});
