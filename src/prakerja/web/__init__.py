"""The page shell: templates, i18n, security dependencies, middleware, error rendering."""
